// The interop client: Debian's C++ Cap'n Proto library (libcapnp-rpc 0.9.2)
// against a capOS remote session CapSet, written as any C++ user would
// (EzRpcClient, the classes `capnp compile -oc++` generates from
// schema/capos.capnp).  Prints one line per step for the test harness:
//   ok <step> ...            a step that worked
//   denied <step> <type> <reason>   a call the server refused
// Usage: client HOST PORT password|key SEEDHEX|wrong|echo-loop N|echo TEXT|expire MAXSECONDS|bench N DEPTH|pubkey SEEDHEX
// (the password: $REMOTE_PASSWORD, default "secret"; echo-loop and bench log
// in with the key of $REMOTE_SEED when it is set; with $REMOTE_HOLD set,
// echo-loop logs in, makes one echo, prints "ready" and waits for a line on
// its standard input before its N calls, so a harness can hold many logged-in
// sessions open at once)
#include <capnp/ez-rpc.h>
#include <kj/async-io.h>
#include <kj/timer.h>
#include <kj/debug.h>
#include <sodium.h>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include "capos.capnp.h"

static const char *typeName(kj::Exception::Type t) {
  switch (t) {
    case kj::Exception::Type::FAILED: return "failed";
    case kj::Exception::Type::OVERLOADED: return "overloaded";
    case kj::Exception::Type::DISCONNECTED: return "disconnected";
    case kj::Exception::Type::UNIMPLEMENTED: return "unimplemented";
  }
  return "?";
}

// The server's reason is the exception's description, after the library's
// "remote exception: " prefix.
static std::string reasonOf(const kj::Exception &e) {
  std::string d = e.getDescription().cStr();
  auto p = d.rfind(": ");
  return p == std::string::npos ? d : d.substr(p + 2);
}

template <typename P>
static bool expectDenied(const char *step, P &&promise, kj::WaitScope &ws) {
  try {
    promise.wait(ws);
    printf("unexpected-ok %s\n", step);
    return false;
  } catch (const kj::Exception &e) {
    printf("denied %s %s %s\n", step, typeName(e.getType()), reasonOf(e).c_str());
    return true;
  }
}

static capnp::Data::Reader bytes(const char *s) {
  return capnp::Data::Reader(reinterpret_cast<const kj::byte *>(s), strlen(s));
}

static RemoteCapSet::Client keyLogin(RemoteAdmission::Client adm, const char *seedHex, kj::WaitScope &ws) {
  unsigned char seed[32], pk[32], sk[64], sig[64];
  size_t n = 0;
  if (sodium_hex2bin(seed, 32, seedHex, strlen(seedHex), nullptr, &n, nullptr) != 0 || n != 32)
    KJ_FAIL_REQUIRE("bad seed");
  crypto_sign_seed_keypair(pk, sk, seed);
  auto nonce = adm.challengeRequest().send().wait(ws);
  std::string msg = "capos-remote-key-v1";
  auto nd = nonce.getNonce();
  msg.append(reinterpret_cast<const char *>(nd.begin()), nd.size());
  crypto_sign_detached(sig, nullptr, reinterpret_cast<const unsigned char *>(msg.data()), msg.size(), sk);
  auto req = adm.keyLoginRequest();
  req.setPrincipal("admin");
  req.setPublicKey(capnp::Data::Reader(pk, 32));
  req.setSignature(capnp::Data::Reader(sig, 64));
  auto res = req.send().wait(ws);
  printf("ok key-login result=%d\n", (int)res.getResult());
  return res.getCapSet();
}

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: client HOST PORT password|key SEEDHEX|wrong|echo-loop N\n");
    return 2;
  }
  setvbuf(stdout, nullptr, _IOLBF, 0);
  if (sodium_init() < 0) return 2;
  std::string mode = argv[3];
  if (mode == "pubkey") {  // the public key of a seed, for the harness
    unsigned char seed[32], pk[32], sk[64];
    char hex[65];
    size_t n = 0;
    if (argc < 5 || sodium_hex2bin(seed, 32, argv[4], strlen(argv[4]), nullptr, &n, nullptr) != 0 || n != 32)
      return 2;
    crypto_sign_seed_keypair(pk, sk, seed);
    printf("%s\n", sodium_bin2hex(hex, sizeof hex, pk, 32));
    return 0;
  }
  try {
    capnp::EzRpcClient client(argv[1], atoi(argv[2]));
    auto &ws = client.getWaitScope();
    auto adm = client.getMain<RemoteAdmission>();

    if (mode == "wrong") {
      auto req = adm.loginRequest();
      req.setPrincipal("admin");
      req.setPassword(bytes("not-the-password"));
      auto res = req.send().wait(ws);
      printf("ok wrong-password result=%d hascap=%d\n", (int)res.getResult(), res.hasCapSet() ? 1 : 0);
      return 0;
    }

    RemoteCapSet::Client capset = nullptr;
    kj::Maybe<Echo::Client> pipelinedEcho;
    const char *seed = getenv("REMOTE_SEED");  // loops and benches may log in by key
    if (mode == "key") {
      capset = keyLogin(adm, argv[4], ws);
    } else if (seed && (mode == "echo-loop" || mode == "bench")) {
      capset = keyLogin(adm, seed, ws);
    } else {
      // login, then get("echo") and echo pipelined on answers not yet returned
      auto req = adm.loginRequest();
      req.setPrincipal("admin");
      const char *pw = getenv("REMOTE_PASSWORD");
      req.setPassword(bytes(pw ? pw : "secret"));
      auto login = req.send();
      capset = login.getCapSet();
      auto get = capset.getRequest();
      get.setName("echo");
      auto echo = get.send().getCap().castAs<Echo>();
      auto er = echo.echoRequest();
      er.setData(bytes("pipelined hello"));
      auto echoed = er.send();
      auto res = login.wait(ws);
      printf("ok login result=%d\n", (int)res.getResult());
      auto d = echoed.wait(ws).getData();
      printf("ok pipelined-echo %.*s\n", (int)d.size(), d.begin());
      pipelinedEcho = echo;
    }

    if (mode == "echo") {  // one echo of argv[4]; the reply as it is
      auto get = capset.getRequest();
      get.setName("echo");
      auto echo = get.send().getCap().castAs<Echo>();
      auto er = echo.echoRequest();
      er.setData(bytes(argv[4]));
      auto d = er.send().wait(ws).getData();
      printf("ok echo-reply\n%.*s\n", (int)d.size(), d.begin());
      return 0;
    }

    if (mode == "expire") {  // an echo now, then one every 5 s until refused (at most argv[4] s)
      auto get = capset.getRequest();
      get.setName("echo");
      auto echo = get.send().getCap().castAs<Echo>();
      auto er = echo.echoRequest();
      er.setData(bytes("before"));
      er.send().wait(ws);
      printf("ok before-expiry\n");
      kj::Timer &timer = client.getIoProvider().getTimer();
      int limit = atoi(argv[4]);
      for (int waited = 0; waited < limit; waited += 5) {
        timer.afterDelay(5 * kj::SECONDS).wait(ws);
        auto er2 = echo.echoRequest();
        er2.setData(bytes("after"));
        try {
          er2.send().wait(ws);
        } catch (const kj::Exception &e) {
          printf("denied after-expiry %s %s\n", typeName(e.getType()), reasonOf(e).c_str());
          expectDenied("capset-after-expiry", capset.listRequest().send(), ws);
          return 0;
        }
      }
      printf("unexpected-ok after-expiry\n");
      return 0;
    }

    if (mode == "bench") {  // argv[4] calls, argv[5] in flight: the elapsed time
      // depth chains of calls, each starting its next call when its last
      // returns: depth calls in flight all the time, until the last ones
      int n = atoi(argv[4]), depth = argc > 5 ? atoi(argv[5]) : 1;
      if (n < 1 || depth < 1) return 2;
      auto get = capset.getRequest();
      get.setName("echo");
      auto echo = get.send().getCap().castAs<Echo>();
      auto one = [&]() {
        auto er = echo.echoRequest();
        er.setData(bytes("bench"));
        return er.send().ignoreResult();
      };
      std::function<kj::Promise<void>(int)> chain = [&](int left) -> kj::Promise<void> {
        if (left == 0) return kj::READY_NOW;
        return one().then([&chain, left]() { return chain(left - 1); });
      };
      one().wait(ws);  // the cap resolved
      auto t0 = kj::systemPreciseMonotonicClock().now();
      auto chains = kj::heapArrayBuilder<kj::Promise<void>>(depth);
      for (int i = 0; i < depth; i++) chains.add(chain(n / depth + (i < n % depth ? 1 : 0)));
      kj::joinPromises(chains.finish()).wait(ws);
      auto dt = kj::systemPreciseMonotonicClock().now() - t0;
      printf("ok bench calls=%d depth=%d ns=%lld\n", n, depth, (long long)(dt / kj::NANOSECONDS));
      return 0;
    }

    if (mode == "echo-loop") {
      int n = atoi(argv[4]);
      auto get = capset.getRequest();
      get.setName("echo");
      auto echo = get.send().getCap().castAs<Echo>();
      if (getenv("REMOTE_HOLD")) {
        auto er = echo.echoRequest();
        er.setData(bytes("loop"));
        er.send().wait(ws);
        printf("ready\n");
        fflush(stdout);
        char line[16];
        if (!fgets(line, sizeof line, stdin)) return 1;
      }
      for (int i = 0; i < n; i++) {
        auto er = echo.echoRequest();
        er.setData(bytes("loop"));
        auto d = er.send().wait(ws).getData();
        if (d.size() != 4 || memcmp(d.begin(), "loop", 4) != 0) { printf("bad echo\n"); return 1; }
      }
      printf("ok echo-loop %d\n", n);
      return 0;
    }

    auto list = capset.listRequest().send().wait(ws);
    for (auto e : list.getEntries())
      printf("ok entry %s %016llx %s\n", e.getName().cStr(), (unsigned long long)e.getInterfaceId(),
             e.getDescription().cStr());

    auto getSys = capset.getRequest();
    getSys.setName("system-info");
    auto sys = getSys.send().getCap().castAs<SystemInfo>();
    auto si = sys.getRequest().send().wait(ws);
    printf("ok system-info uptime=%llu kernel=%s processes=%u\n", (unsigned long long)si.getUptimeNs(),
           si.getKernelVersion().cStr(), si.getProcesses());

    auto getSess = capset.getRequest();
    getSess.setName("session");
    auto sess = getSess.send().getCap().castAs<UserSession>();
    auto info = sess.infoRequest().send().wait(ws);
    printf("ok session principal=%s auth=%s\n", info.getPrincipal().cStr(), info.getAuthMethod().cStr());

    // released: a fresh echo cap, called once, then dropped (Release)
    {
      auto g = capset.getRequest();
      g.setName("echo");
      auto echo = g.send().getCap().castAs<Echo>();
      auto er = echo.echoRequest();
      er.setData(bytes("released"));
      auto d = er.send().wait(ws).getData();
      printf("ok echo %.*s\n", (int)d.size(), d.begin());
    }

    // denials
    auto g2 = capset.getRequest();
    g2.setName("echo");
    auto echo2 = g2.send().getCap();
    expectDenied("wrong-interface", echo2.castAs<SystemInfo>().getRequest().send(), ws);
    expectDenied("unknown-method", echo2.typelessRequest(Echo::_capnpPrivate::typeId, 7, nullptr).send(), ws);
    expectDenied("unimplemented", sess.watchRequest().send(), ws);
    auto g3 = capset.getRequest();
    g3.setName("no-such-cap");
    expectDenied("unknown-cap", g3.send(), ws);

    // logout: the session's caps are gone, calls fail disconnected
    sess.logoutRequest().send().wait(ws);
    printf("ok logout\n");
    auto er = echo2.castAs<Echo>().echoRequest();
    er.setData(bytes("after logout"));
    expectDenied("after-logout", er.send(), ws);
    expectDenied("capset-after-logout", capset.listRequest().send(), ws);
    printf("ok done\n");
  } catch (const kj::Exception &e) {
    printf("error %s %s\n", typeName(e.getType()), e.getDescription().cStr());
    return 1;
  }
  return 0;
}
