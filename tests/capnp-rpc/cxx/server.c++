// The same test bootstrap as tests/capnp-rpc/testsrv.c, served by Debian's
// C++ library (EzRpcServer): the reference peer whose messages our client
// is tested against (capture.py), and the baseline of the benchmark.
// Usage: server BIND-ADDRESS PORT    (prints "listening PORT")
#include <capnp/ez-rpc.h>
#include <kj/debug.h>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include "capos.capnp.h"

class EchoImpl final : public Echo::Server {
 protected:
  kj::Promise<void> echo(EchoContext ctx) override {
    ctx.getResults().setData(ctx.getParams().getData());
    return kj::READY_NOW;
  }
};

class SystemInfoImpl final : public SystemInfo::Server {
 protected:
  kj::Promise<void> get(GetContext ctx) override {
    auto r = ctx.getResults();
    r.setUptimeNs(1234567);
    r.setKernelVersion("capOS test");
    r.setBuildVersion("c++");
    r.setProcesses(7);
    return kj::READY_NOW;
  }
};

class SessionImpl final : public UserSession::Server {
 protected:
  kj::Promise<void> info(InfoContext ctx) override {
    ctx.getResults().setPrincipal("admin");
    ctx.getResults().setAuthMethod("password");
    return kj::READY_NOW;
  }
  kj::Promise<void> logout(LogoutContext ctx) override { return kj::READY_NOW; }
};

class CapSetImpl final : public RemoteCapSet::Server {
 protected:
  kj::Promise<void> list(ListContext ctx) override {
    auto l = ctx.getResults().initEntries(3);
    l[0].setName("session");
    l[0].setInterfaceId(UserSession::_capnpPrivate::typeId);
    l[1].setName("system-info");
    l[1].setInterfaceId(SystemInfo::_capnpPrivate::typeId);
    l[2].setName("echo");
    l[2].setInterfaceId(Echo::_capnpPrivate::typeId);
    return kj::READY_NOW;
  }
  kj::Promise<void> get(GetContext ctx) override {
    auto name = ctx.getParams().getName();
    if (name == "echo")
      ctx.getResults().setCap(kj::heap<EchoImpl>());
    else if (name == "system-info")
      ctx.getResults().setCap(kj::heap<SystemInfoImpl>());
    else if (name == "session")
      ctx.getResults().setCap(kj::heap<SessionImpl>());
    else
      KJ_FAIL_REQUIRE("unknown-cap");
    return kj::READY_NOW;
  }
};

class AdmissionImpl final : public RemoteAdmission::Server {
 protected:
  kj::Promise<void> login(LoginContext ctx) override {
    auto p = ctx.getParams();
    auto pw = p.getPassword();
    if (p.getPrincipal() == "admin" && pw.size() == 6 && memcmp(pw.begin(), "secret", 6) == 0) {
      ctx.getResults().setResult(LoginResult::OK);
      ctx.getResults().setCapSet(kj::heap<CapSetImpl>());
    } else {
      ctx.getResults().setResult(LoginResult::DENIED);
    }
    return kj::READY_NOW;
  }
};

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: server BIND-ADDRESS PORT\n");
    return 2;
  }
  setvbuf(stdout, nullptr, _IOLBF, 0);
  capnp::EzRpcServer server(kj::heap<AdmissionImpl>(), argv[1], atoi(argv[2]));
  auto &ws = server.getWaitScope();
  unsigned port = server.getPort().wait(ws);
  printf("listening %u\n", port);
  kj::NEVER_DONE.wait(ws);
}
