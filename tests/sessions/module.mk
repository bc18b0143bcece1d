# Test-only guest programs of the session harnesses: built into build/user,
# so the test images (tests/lib/capos_qemu.py boot_package packs every
# program there) carry them; the default boot package (user/module.mk's
# list) never does. user/module.mk is read after this file, hence the
# second expansion for its variables.
SESSION_TEST_PROGS := $(BUILD)/user/sessprobe $(BUILD)/user/sessjob
.SECONDEXPANSION:
$(SESSION_TEST_PROGS): $(BUILD)/user/%: $(BUILD)/uobj/tests/sessions/%/main.c.o $$(RT_OBJS) user/rt/user.ld
	@mkdir -p $(dir $@)
	$(call say,LD,$@)$(USER_CC) $(USER_LDFLAGS) -o $@ $(filter %.o,$^) -lgcc

.PHONY: test-sessions
test-sessions: all
	$(call say,TEST,$@)$(PYTHON) tests/sessions/test_sessions.py
QEMU_TESTS += test-sessions
.PHONY: test-launcher
test-launcher: all
	$(call say,TEST,$@)$(PYTHON) tests/sessions/test_launcher.py
QEMU_TESTS += test-launcher
.PHONY: test-login-cycle
test-login-cycle: all $(SESSION_TEST_PROGS)
	$(call say,TEST,$@)$(PYTHON) tests/sessions/test_login_cycle.py
QEMU_TESTS += test-login-cycle
