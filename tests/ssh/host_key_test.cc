#include <catch2/catch.hpp>

#include "transport/transport.h"

namespace racksmith::transport {
namespace {

Endpoint Node(const std::string& name) {
  Endpoint e;
  e.node = name;
  e.address = "127.0.2.1";
  return e;
}

TEST_CASE("CheckHostKey records an unknown node's key as first contact", "[ssh]") {
  InMemoryHostKeyStore store;
  auto v = CheckHostKey(store, Node("a"), "ssh-ed25519", "KEY1");
  REQUIRE(v.ok());
  CHECK(*v == HostKeyVerdict::kFirstContact);
  CHECK(store.Lookup("a", "ssh-ed25519")->value() == "KEY1");
}

TEST_CASE("CheckHostKey accepts the recorded key again", "[ssh]") {
  InMemoryHostKeyStore store;
  REQUIRE(CheckHostKey(store, Node("a"), "ssh-ed25519", "KEY1").ok());
  auto v = CheckHostKey(store, Node("a"), "ssh-ed25519", "KEY1");
  REQUIRE(v.ok());
  CHECK(*v == HostKeyVerdict::kKnown);
}

TEST_CASE("CheckHostKey refuses a changed key and says how to forget it", "[ssh]") {
  InMemoryHostKeyStore store;
  REQUIRE(CheckHostKey(store, Node("a"), "ssh-ed25519", "KEY1").ok());
  auto v = CheckHostKey(store, Node("a"), "ssh-ed25519", "KEY2");
  REQUIRE_FALSE(v.ok());
  CHECK(v.error().code() == ErrorCode::kConflict);
  CHECK(v.error().message() ==
        "a (127.0.2.1:22): ssh-ed25519 host key changed: expected the recorded key, found a "
        "different one; refusing the node. If the node was legitimately reinstalled, run "
        "`racksmith hostkey forget a` and connect again");
  CHECK(store.Lookup("a", "ssh-ed25519")->value() == "KEY1");
}

TEST_CASE("forgetting a node's keys lets a new key be recorded", "[ssh]") {
  InMemoryHostKeyStore store;
  REQUIRE(CheckHostKey(store, Node("a"), "ssh-ed25519", "KEY1").ok());
  REQUIRE(CheckHostKey(store, Node("b"), "ssh-ed25519", "KEYB").ok());
  CHECK(*store.Forget("a") == 1);
  auto v = CheckHostKey(store, Node("a"), "ssh-ed25519", "KEY2");
  REQUIRE(v.ok());
  CHECK(*v == HostKeyVerdict::kFirstContact);
  CHECK(store.Lookup("b", "ssh-ed25519")->value() == "KEYB");
}

}  // namespace
}  // namespace racksmith::transport
