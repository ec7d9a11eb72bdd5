// bench/redfish's BMC fleet: N simulated BMCs (the lab's RedfishSim, HTTPS) in one process,
// each on its own loopback address, with an inventory and a URL list for the clients.
//
//   sim_fleet N DIR CERT KEY
//
// BMC i (0-based) listens on 127.0.(20 + i / 250).(1 + i % 250):8443. Writes
// DIR/inventory.yaml (nodes bench-n0001.., 8 GPUs and 2 NVMe drives each, the password as
// {env: BENCH_BMC_PASSWORD}) and DIR/bmcs.txt (one "https://address:8443" per line), then
// prints "ready" and serves until stdin closes. Each line "count" on stdin is answered with
// "requests N" (all requests served so far). The password is read from BENCH_BMC_PASSWORD.
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>

#include "lab/redfish_sim.h"

namespace {

std::string Address(int i) {
  return "127.0." + std::to_string(20 + i / 250) + "." + std::to_string(1 + i % 250);
}

std::string Name(int i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "bench-n%04d", i + 1);
  return buf;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5) {
    std::cerr << "usage: sim_fleet N DIR CERT KEY\n";
    return 2;
  }
  const int n = std::atoi(argv[1]);
  const std::string dir = argv[2];
  const char* password = std::getenv("BENCH_BMC_PASSWORD");
  if (n < 1 || n > 2000 || password == nullptr) {
    std::cerr << "sim_fleet: N must be 1..2000 and BENCH_BMC_PASSWORD set\n";
    return 2;
  }
  racksmith::lab::SimOptions o;
  o.password = password;
  o.tls_cert = argv[3];
  o.tls_key = argv[4];
  o.threads_per_bmc = 4;  // racksmith opens up to 4 connections per BMC (EngineOptions)
  racksmith::lab::RedfishSim sim(o);

  std::ofstream inv(dir + "/inventory.yaml");
  std::ofstream urls(dir + "/bmcs.txt");
  inv << "# bench/redfish: " << n << " simulated BMCs on loopback (written by sim_fleet)\n"
      << "site: bench\n"
      << "defaults:\n"
      << "  bmc:\n"
      << "    driver: redfish\n"
      << "    username: admin\n"
      << "    password: {env: BENCH_BMC_PASSWORD}\n"
      << "    port: 8443\n"
      << "    tls: {ca_file: " << argv[3] << "}\n"
      << "profiles:\n"
      << "  bench-8gpu:\n"
      << "    hardware:\n"
      << "      cpus: 128\n"
      << "      memory_gib: 1024\n"
      << "      gpus: {model: \"NVIDIA A100-SXM4-80GB\", count: 8}\n"
      << "      drives: [{type: nvme, count: 2, size_gb: 3840}]\n"
      << "racks:\n";
  for (int i = 0; i < n; ++i) {
    racksmith::lab::SimNode node;
    node.name = Name(i);
    node.address = Address(i);
    node.port = 8443;
    node.serial = "BENCH" + std::to_string(i + 1);
    node.cores_per_cpu = 32;
    node.memory_gib = 1024;
    node.initial_power = "On";
    for (int g = 0; g < 8; ++g) {
      racksmith::lab::SimGpu gpu;
      gpu.serial = node.serial + "-GPU" + std::to_string(g);
      node.gpus.push_back(gpu);
    }
    for (int d = 0; d < 2; ++d) {
      racksmith::lab::SimDrive drive;
      drive.serial = node.serial + "-NVME" + std::to_string(d);
      drive.capacity_bytes = 3'840'000'000'000;
      node.drives.push_back(drive);
    }
    racksmith::Status s = sim.AddNode(node);
    if (!s.ok()) {
      std::cerr << "sim_fleet: " << s.error().message() << "\n";
      return 1;
    }
    if (i % 40 == 0) inv << "  - name: bench-r" << (i / 40 + 1) << "\n    nodes:\n";
    // The node's own address is never contacted by `bmc` commands.
    inv << "      - {name: " << node.name << ", profile: bench-8gpu, bmc: " << node.address
        << ", ip: 127.0." << 30 + i / 250 << "." << 1 + i % 250 << "}\n";
    urls << "https://" << node.address << ":8443\n";
  }
  inv.close();
  urls.close();
  std::cout << "ready" << std::endl;
  std::string line;
  while (std::getline(std::cin, line)) {
    if (line != "count") continue;
    int64_t requests = 0;
    for (int i = 0; i < n; ++i) requests += sim.Requests(Name(i));
    std::cout << "requests " << requests << std::endl;
  }
  sim.Stop();
  return 0;
}
