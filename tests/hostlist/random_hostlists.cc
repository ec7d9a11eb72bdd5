#include "hostlist/random_hostlists.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "support/cli_runner.h"
#include "support/temp_dir.h"

namespace racksmith::hostlist::testing {

uint64_t RandomHostlists::InterestingNumber() {
  static constexpr uint64_t kBases[] = {0,  1,  7,   8,   9,   10,  11,  95,
                                        98, 99, 100, 101, 995, 999, 1000};
  if (Chance(70)) return kBases[Uniform(0, std::size(kBases) - 1)];
  return static_cast<uint64_t>(Uniform(0, 130));
}

std::string RandomHostlists::Padded(uint64_t value, int extra_zeros) {
  return std::string(static_cast<size_t>(extra_zeros), '0') + std::to_string(value);
}

std::string RandomHostlists::Text(int min_len, int max_len) {
  static constexpr char kChars[] = "abnrx-._gpu01";
  int len = Uniform(min_len, max_len);
  std::string out;
  for (int i = 0; i < len; ++i) out += kChars[Uniform(0, sizeof kChars - 2)];
  return out;
}

std::string RandomHostlists::Group(int max_span) {
  std::string out = "[";
  int items = Uniform(1, 3);
  for (int i = 0; i < items; ++i) {
    if (i > 0) out += ',';
    uint64_t lo = InterestingNumber();
    out += Padded(lo, Chance(35) ? Uniform(1, 2) : 0);
    if (Chance(70)) {
      uint64_t hi = lo + static_cast<uint64_t>(Uniform(0, max_span));
      out += '-';
      out += Padded(hi, Chance(15) ? Uniform(1, 2) : 0);
    }
  }
  return out + "]";
}

std::string RandomHostlists::Name() {
  switch (Uniform(0, 5)) {
    case 0:  // a literal name, digits allowed anywhere
      return Text(1, 8);
    case 1:  // one group
      return (Chance(90) ? Text(1, 6) : "") + Group(12);
    case 2:
    case 3: {  // two to four groups, text between them possibly empty
      int groups = Uniform(2, 4);
      std::string out;
      for (int g = 0; g < groups; ++g)
        out += (Chance(80) ? Text(1, 4) : "") + Group(groups > 2 ? 2 : 5);
      return out;
    }
    case 4: {  // IPv4 with a range per octet
      std::string out;
      int ranged = 0;
      for (int octet = 0; octet < 4; ++octet) {
        if (octet > 0) out += '.';
        // Slurm allows no text after the last group, so the last octet is always ranged.
        if (octet == 3 || (ranged < 2 && Chance(35))) {
          ++ranged;
          out += Group(octet == 3 ? 15 : 2);
        } else {
          out += std::to_string(Uniform(0, 255));
        }
      }
      return out;
    }
    default: {  // a typical cluster name
      static const char* kPrefixes[] = {"gpu-r01-n", "node", "cn", "dgx-a100-", "r1n"};
      return std::string(kPrefixes[Uniform(0, 4)]) + Group(20);
    }
  }
}

std::string RandomHostlists::Expression(bool whitespace) {
  // Slurm separates names at commas, spaces and tabs (a line break is part of a name there).
  static const char* kSeparators[] = {",", " ", ", ", "\t", " ,\t"};
  int names = Uniform(whitespace ? 2 : 1, 4);
  std::string out;
  for (int i = 0; i < names; ++i) {
    if (i > 0) out += whitespace ? kSeparators[Uniform(0, 4)] : ",";
    out += Name();
  }
  return out;
}

std::string RandomHostlists::MalformedExpression() {
  std::string prefix = Text(1, 5);
  uint64_t lo = InterestingNumber() + 1;
  switch (Uniform(0, 4)) {
    case 0:  // reversed
      return prefix + "[" + std::to_string(lo + Uniform(1, 9)) + "-" + std::to_string(lo) + "]";
    case 1:  // empty item
      return prefix + "[" + std::to_string(lo) + (Chance(50) ? ",]" : ",,2]");
    case 2:  // not a number
      return prefix + "[" + std::to_string(lo) + "-" + Text(1, 2) + "x]";
    case 3:  // text after the last group
      return prefix + Group(3) + Text(1, 3) + "x";
    default:  // empty brackets inside a list
      return Name() + "," + prefix + "[]";
  }
}

std::vector<std::string> RandomHostlists::Names() {
  static const char* kPrefixes[] = {"n",    "node", "gpu-r01-n", "gpu-r1-n", "r1n",
                                    "r01n", "",     "10.1.0.",   "a-",       "x.y_"};
  std::vector<std::string> names;
  int segments = Uniform(1, 6);
  for (int s = 0; s < segments; ++s) {
    if (Chance(15)) {
      names.push_back(Text(1, 5) + (Chance(50) ? "x" : ""));
      continue;
    }
    std::string prefix = kPrefixes[Uniform(0, 9)];
    uint64_t n = InterestingNumber();
    int base_zeros = Chance(30) ? Uniform(1, 2) : 0;
    int len = Uniform(1, 12);
    for (int i = 0; i < len; ++i) {
      int zeros = Chance(15) ? Uniform(0, 2) : base_zeros;
      names.push_back(prefix + Padded(n, zeros));
      int step = Chance(80) ? 1 : Uniform(-2, 5);
      if (step < 0 && n < static_cast<uint64_t>(-step)) step = 1;
      n = static_cast<uint64_t>(static_cast<int64_t>(n) + step);
    }
  }
  if (Chance(25) && !names.empty()) names.push_back(names[Uniform(0, names.size() - 1)]);
  if (Chance(20)) std::shuffle(names.begin(), names.end(), rng_);
  return names;
}

namespace {

constexpr const char* kBatchMarker = "@@END";

bool HasWhitespace(const std::string& s) { return s.find_first_of(" \t\n\r") != std::string::npos; }

// Splits one batch's output (stdout and stderr interleaved) at the marker lines, dropping the
// lines scontrol echoes for each command it reads.
std::vector<std::string> SplitBatchOutput(const std::string& text) {
  std::vector<std::string> outputs;
  std::string current;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    std::string line = text.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
    pos = nl == std::string::npos ? text.size() : nl + 1;
    if (line.rfind("scontrol: show ", 0) == 0 || line == "scontrol: ") continue;
    if (line == kBatchMarker) {
      outputs.push_back(current);
      current.clear();
      continue;
    }
    current += line + "\n";
  }
  return outputs;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

}  // namespace

std::vector<std::string> RunScontrol(const std::string& what, const std::vector<std::string>& args,
                                     std::string* error) {
  using racksmith::testing::RunProgram;
  if (RunProgram({"sh", "-c", "command -v scontrol && command -v stdbuf"}).exit_code != 0) {
    *error =
        "scontrol (or stdbuf) is not installed: run scripts/setup.sh (Debian package "
        "slurm-client); the differential test needs it";
    return {};
  }
  racksmith::testing::TempDir dir;
  dir.Write(
      "slurm.conf",
      "ClusterName=x\nSlurmctldHost=localhost\nNodeName=dummy\nPartitionName=p Nodes=dummy\n");
  // Arguments without whitespace go to a few scontrol processes that read commands from
  // stdin (one process start for hundreds of cases); scontrol splits its command lines at
  // whitespace, so an argument with whitespace (or an empty one) gets a process of its own,
  // through argv.
  constexpr int kShells = 2;
  std::vector<std::vector<size_t>> batch(kShells);
  std::vector<size_t> single;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i].empty() || HasWhitespace(args[i])) {
      single.push_back(i);
    } else {
      batch[i % kShells].push_back(i);
    }
  }
  std::string script = "export SLURM_CONF=\"" + dir.Join("slurm.conf") + "\"\n";
  for (int shell = 0; shell < kShells; ++shell) {
    std::string commands;
    for (size_t i : batch[shell]) {
      commands += "show " + what + " " + args[i] + "\nshow hostnames " + kBatchMarker + "\n";
    }
    dir.Write("batch" + std::to_string(shell), commands);
    // Line-buffered stdout keeps each error message next to the command that caused it.
    script += "stdbuf -oL scontrol < batch" + std::to_string(shell) + " > batch" +
              std::to_string(shell) + ".out 2>&1 &\n";
  }
  std::string singles;
  for (size_t i : single) singles += args[i] + '\0';
  dir.Write("singles", singles);
  script += "xargs -0 -r -n 1 sh -c 'scontrol show " + what + " -- \"$1\" 2>&1; echo " +
            kBatchMarker + "' sh < singles > singles.out\nwait\n";
  racksmith::testing::CliOptions options;
  options.cwd = dir.path();
  auto run = RunProgram({"sh", "-c", script}, options);
  if (run.exit_code != 0) {
    *error = "running scontrol failed: " + run.err;
    return {};
  }
  std::vector<std::string> outputs(args.size(), "<missing output>");
  auto collect = [&](const std::vector<size_t>& indexes, const std::string& file) {
    std::vector<std::string> got = SplitBatchOutput(ReadFile(dir.Join(file)));
    for (size_t k = 0; k < indexes.size() && k < got.size(); ++k) outputs[indexes[k]] = got[k];
  };
  for (int shell = 0; shell < kShells; ++shell) {
    collect(batch[shell], "batch" + std::to_string(shell) + ".out");
  }
  collect(single, "singles.out");
  return outputs;
}

}  // namespace racksmith::hostlist::testing
