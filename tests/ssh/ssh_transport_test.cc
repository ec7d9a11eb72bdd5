#include "ssh/ssh_transport.h"

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <thread>

#include "ssh/sshd_fixture.h"

namespace racksmith::ssh {
namespace {

using racksmith::testing::FreeLoopbackPort;
using racksmith::testing::SshdFixture;
using transport::ExecRequest;
using transport::InMemoryHostKeyStore;

ExecRequest Cmd(const std::string& command) {
  ExecRequest r;
  r.command = command;
  return r;
}

TEST_CASE("exec returns the command's stdout, stderr and exit status", "[ssh]") {
  SshdFixture sshd;
  REQUIRE(sshd.running());
  InMemoryHostKeyStore keys;
  SshTransport t(keys);
  auto r = t.Exec(sshd.Endpoint(), Cmd("echo out; echo err >&2; exit 7"));
  REQUIRE(r.ok());
  CHECK(r->stdout_text == "out\n");
  CHECK(r->stderr_text == "err\n");
  CHECK(r->exit_status == 7);
}

TEST_CASE("exec authenticates with an RSA key file as well as ed25519", "[ssh]") {
  SshdFixture sshd("rsa");
  InMemoryHostKeyStore keys;
  SshTransport t(keys);
  auto r = t.Exec(sshd.Endpoint("n1", "rsa"), Cmd("echo hi"));
  REQUIRE(r.ok());
  CHECK(r->stdout_text == "hi\n");
  auto rec = keys.Lookup("n1", "ssh-rsa");
  REQUIRE(rec.ok());
  CHECK(rec->has_value());
}

TEST_CASE("exec streams output to callbacks and handles more than a megabyte", "[ssh]") {
  SshdFixture sshd;
  InMemoryHostKeyStore keys;
  SshTransport t(keys);
  size_t out_bytes = 0;
  int chunks = 0;
  ExecRequest req = Cmd("head -c 3000000 /dev/zero");
  req.on_stdout = [&](std::string_view c) {
    out_bytes += c.size();
    ++chunks;
  };
  auto r = t.Exec(sshd.Endpoint(), req);
  REQUIRE(r.ok());
  CHECK(out_bytes == 3000000);
  CHECK(chunks > 1);
  CHECK(r->stdout_text.empty());
  CHECK(r->exit_status == 0);
}

TEST_CASE("the first contact records the host key and a changed key refuses the node", "[ssh]") {
  SshdFixture sshd;
  InMemoryHostKeyStore keys;
  {
    SshTransport t(keys);
    REQUIRE(t.Exec(sshd.Endpoint(), Cmd("true")).ok());
  }
  auto recorded = keys.Lookup("n1", "ssh-ed25519");
  REQUIRE(recorded.ok());
  REQUIRE(recorded->has_value());

  sshd.RegenerateHostKeyAndRestart();
  SshTransport t(keys);
  auto r = t.Exec(sshd.Endpoint(), Cmd("true"));
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code() == ErrorCode::kConflict);
  CHECK_THAT(r.error().message(), Catch::Contains("n1 (127.0.0.1:"));
  CHECK_THAT(r.error().message(), Catch::Contains("racksmith hostkey forget n1"));

  REQUIRE(*keys.Forget("n1") == 1);
  CHECK(t.Exec(sshd.Endpoint(), Cmd("true")).ok());
}

TEST_CASE("a node where nothing listens is reported unreachable with its address", "[ssh]") {
  InMemoryHostKeyStore keys;
  SshTransport t(keys);
  transport::Endpoint e;
  e.node = "ghost";
  e.address = "127.0.0.1";
  e.port = FreeLoopbackPort();
  e.key_path = "/nonexistent";
  auto r = t.Exec(e, Cmd("true"));
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code() == ErrorCode::kUnreachable);
  CHECK_THAT(r.error().message(), Catch::Contains("ghost (root@127.0.0.1:"));
}

TEST_CASE("a key the node does not accept fails authentication naming the key file", "[ssh]") {
  SshdFixture sshd;
  SshdFixture other;
  InMemoryHostKeyStore keys;
  SshTransport t(keys);
  auto e = sshd.Endpoint();
  e.key_path = other.dir() + "/client_ed25519";
  auto r = t.Exec(e, Cmd("true"));
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code() == ErrorCode::kUnreachable);
  CHECK_THAT(r.error().message(), Catch::Contains("authentication failed"));
}

TEST_CASE("a command past its timeout is stopped and reported as a timeout", "[ssh]") {
  SshdFixture sshd;
  InMemoryHostKeyStore keys;
  SshTransport t(keys);
  ExecRequest req = Cmd("sleep 30");
  req.timeout = std::chrono::milliseconds(300);
  auto start = std::chrono::steady_clock::now();
  auto r = t.Exec(sshd.Endpoint(), req);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code() == ErrorCode::kTimeout);
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));
  // The pooled connection still serves the next command.
  auto again = t.Exec(sshd.Endpoint(), Cmd("echo ok"));
  REQUIRE(again.ok());
  CHECK(again->stdout_text == "ok\n");
}

TEST_CASE("a command can be cancelled from another thread", "[ssh]") {
  SshdFixture sshd;
  InMemoryHostKeyStore keys;
  SshTransport t(keys);
  std::atomic<bool> cancel{false};
  ExecRequest req = Cmd("sleep 30");
  req.cancel = &cancel;
  std::thread canceller([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    cancel = true;
  });
  auto r = t.Exec(sshd.Endpoint(), req);
  canceller.join();
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code() == ErrorCode::kRefused);
}

TEST_CASE("upload replaces a file atomically with its mode and download reads it back", "[ssh]") {
  SshdFixture sshd;
  InMemoryHostKeyStore keys;
  SshTransport t(keys);
  std::string target = sshd.dir() + "/uploaded.conf";
  transport::UploadRequest up;
  up.remote_path = target;
  up.content = std::string(100000, 'x') + "\nend\n";
  up.mode = 0640;
  REQUIRE(t.Upload(sshd.Endpoint(), up).ok());
  up.content = "second\n";
  REQUIRE(t.Upload(sshd.Endpoint(), up).ok());
  auto mode = t.Exec(sshd.Endpoint(), Cmd("stat -c %a " + target + "; ls -a " + sshd.dir()));
  REQUIRE(mode.ok());
  CHECK_THAT(mode->stdout_text, Catch::StartsWith("640\n"));
  CHECK_THAT(mode->stdout_text, !Catch::Contains("racksmith-"));
  auto down = t.Download(sshd.Endpoint(), target);
  REQUIRE(down.ok());
  CHECK(*down == "second\n");
}

TEST_CASE("upload to a folder that does not exist fails naming the node and path", "[ssh]") {
  SshdFixture sshd;
  InMemoryHostKeyStore keys;
  SshTransport t(keys);
  transport::UploadRequest up;
  up.remote_path = sshd.dir() + "/no/such/dir/f";
  up.content = "x";
  Status s = t.Upload(sshd.Endpoint(), up);
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().code() == ErrorCode::kIo);
  CHECK_THAT(s.error().message(), Catch::Contains("n1 (root@127.0.0.1:"));
  CHECK_THAT(s.error().message(), Catch::Contains("/no/such/dir/"));
}

TEST_CASE("many parallel commands to one node share its pooled connection", "[ssh]") {
  SshdFixture sshd;
  InMemoryHostKeyStore keys;
  SshTransport t(keys);
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      auto r = t.Exec(sshd.Endpoint(), Cmd("echo $PPID"));
      if (r.ok() && r->exit_status == 0) ++ok;
    });
  }
  for (auto& th : threads) th.join();
  CHECK(ok == 8);
  // All commands came through one sshd session process: one distinct parent.
  auto a = t.Exec(sshd.Endpoint(), Cmd("echo $PPID"));
  auto b = t.Exec(sshd.Endpoint(), Cmd("echo $PPID"));
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  CHECK(a->stdout_text == b->stdout_text);
}

}  // namespace
}  // namespace racksmith::ssh
