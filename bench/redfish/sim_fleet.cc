// bench/redfish's BMC fleet: N simulated BMCs (the lab's RedfishSim, HTTPS) in one process,
// each on its own loopback address, with an inventory and a URL list for the clients.
//
//   sim_fleet N DIR
//
// BMC i (0-based) listens on 127.0.(20 + i / 250).(1 + i % 250):8443 with its own P-256
// certificate naming its address, signed by a bench CA (as a site CA signs real BMCs'
// certificates): DIR/ca.pem, DIR/bmc/<i>.{cert,key}.pem. Writes DIR/inventory.yaml (nodes
// bench-n0001.., 8 GPUs and 2 NVMe drives each, the password as {env: BENCH_BMC_PASSWORD},
// the CA as ca_file) and DIR/bmcs.txt (one "https://address:8443" per line), then prints
// "ready" and serves until stdin closes. Each line "count" on stdin is answered with
// "requests N" (all requests served so far). The password is read from BENCH_BMC_PASSWORD.
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <utility>
#include <vector>

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

// A certificate for `cn` (and, when `ip` is set, subjectAltName IP:ip) with `key`'s public
// key, signed by ca_key (self-signed when ca is null). Null on an OpenSSL failure.
X509* MakeCert(EVP_PKEY* key, const std::string& cn, const std::string& ip, X509* ca,
               EVP_PKEY* ca_key, long serial) {
  X509* x = X509_new();
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
  X509_gmtime_adj(X509_getm_notBefore(x), -3600);
  X509_gmtime_adj(X509_getm_notAfter(x), 2 * 86400);
  X509_set_pubkey(x, key);
  X509_NAME* name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509_set_issuer_name(x, ca ? X509_get_subject_name(ca) : name);
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, ca ? ca : x, x, nullptr, nullptr, 0);
  std::vector<std::pair<int, std::string>> exts;
  if (ca) {
    exts = {{NID_basic_constraints, "critical,CA:FALSE"},
            {NID_key_usage, "critical,digitalSignature"},
            {NID_ext_key_usage, "serverAuth"},
            {NID_subject_alt_name, "IP:" + ip}};
  } else {
    exts = {{NID_basic_constraints, "critical,CA:TRUE"},
            {NID_key_usage, "critical,keyCertSign,cRLSign"}};
  }
  for (const auto& [nid, value] : exts) {
    X509_EXTENSION* e = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
    if (e == nullptr || !X509_add_ext(x, e, -1)) {
      X509_EXTENSION_free(e);
      X509_free(x);
      return nullptr;
    }
    X509_EXTENSION_free(e);
  }
  if (X509_sign(x, ca_key, EVP_sha256()) <= 0) {
    X509_free(x);
    return nullptr;
  }
  return x;
}

bool WritePem(const std::string& path, X509* cert, EVP_PKEY* key) {
  FILE* f = std::fopen(path.c_str(), "w");
  if (f == nullptr) return false;
  bool ok = cert ? PEM_write_X509(f, cert) == 1
                 : PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr) == 1;
  return std::fclose(f) == 0 && ok;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: sim_fleet N DIR\n";
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
  // One connection per BMC from each client (racksmith with many BMCs at once, sushy's
  // requests session), and idle connections closed after a second: the HTTP server polls
  // each idle one every few milliseconds, which at 1,000 BMCs cost more than the requests.
  o.threads_per_bmc = 2;
  o.keep_alive_timeout_s = 1;
  racksmith::lab::RedfishSim sim(o);

  EVP_PKEY* ca_key = EVP_EC_gen("P-256");
  X509* ca = ca_key ? MakeCert(ca_key, "racksmith bench BMC CA", "", nullptr, ca_key, 1) : nullptr;
  const std::string ca_file = dir + "/ca.pem";
  std::filesystem::create_directories(dir + "/bmc");
  if (ca == nullptr || !WritePem(ca_file, ca, nullptr)) {
    std::cerr << "sim_fleet: cannot make the bench CA\n";
    return 1;
  }

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
      << "    tls: {ca_file: " << ca_file << "}\n"
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
    EVP_PKEY* key = EVP_EC_gen("P-256");
    X509* cert = key ? MakeCert(key, node.address, node.address, ca, ca_key, i + 2) : nullptr;
    node.tls_cert = dir + "/bmc/" + std::to_string(i) + ".cert.pem";
    node.tls_key = dir + "/bmc/" + std::to_string(i) + ".key.pem";
    bool written = cert && WritePem(node.tls_cert, cert, nullptr) &&
                   WritePem(node.tls_key, nullptr, key);
    X509_free(cert);
    EVP_PKEY_free(key);
    if (!written) {
      std::cerr << "sim_fleet: cannot make the certificate of " << node.address << "\n";
      return 1;
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
  X509_free(ca);
  EVP_PKEY_free(ca_key);
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
