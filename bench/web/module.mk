# bench/web: host/web-devserver (lib/tls, lib/http, lib/ws) against Python's
# websockets over Python's ssl, same machine, same run.
.PHONY: bench-web
## bench-web                    web-devserver vs Python websockets+ssl: TLS handshakes/s, wss echo RTT (make bench)
bench-web: $(WEB_DEVSERVER) $(TLS_DEV_CERT)
	$(call say,TEST,$@)$(PYTHON) bench/web/bench.py $(BUILD)

BENCHES += bench-web
