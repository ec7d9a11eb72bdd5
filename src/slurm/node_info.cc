// Parsing `scontrol show node` output (one-line `-o` form and the multi-line form).
//
// Format, as printed by Slurm 22.05's scontrol (src/api/node_info.c, slurm_sprint_node_table)
// and captured from the lab's real slurmctld (docs/slurm.md has the captures):
//   NodeName=lab-n01 CoresPerSocket=1  CPUAlloc=0 ... State=IDLE+DRAIN ... Partitions=lab  ...
//   ... Reason=burn-in failed [root@2026-11-30T09:35:21]
// - Fields are `Key=value` separated by one or more spaces; in the multi-line form each node
//   starts with an unindented `NodeName=` line and continues on lines indented by spaces.
// - Most values have no spaces. Those that do (Reason=, OS=, Comment=) run until the next
//   ` Key=` word. Reason= is special: scontrol appends ` [user@time]`, so a reason runs up
//   to that suffix even when the reason text itself contains `word=word`.
// - State= is BASE[*][+FLAG...]: a base word (IDLE, ALLOCATED, MIXED, DOWN, ...), an optional
//   `*` (not responding, older versions and sinfo), then `+`-joined flags. 22.05 prints
//   NOT_RESPONDING as a `+NOT_RESPONDING` flag; `DOWN*+DRAIN` is the older spelling of the
//   same thing. Both are parsed to base_state + flags{"NOT_RESPONDING", ...}.
#include <algorithm>
#include <cctype>
#include <charconv>

#include "slurm/slurm_control.h"

namespace racksmith::slurm {
namespace {

bool IsKeyChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '/' || c == '.';
}

// Length of the `Key` of a `Key=...` word at the start of `word`, or 0 if it is not one.
size_t KeyLength(std::string_view word) {
  if (word.empty() || !(std::isalpha(static_cast<unsigned char>(word[0])) || word[0] == '_')) {
    return 0;
  }
  size_t i = 1;
  while (i < word.size() && IsKeyChar(word[i])) ++i;
  return (i < word.size() && word[i] == '=') ? i : 0;
}

struct Word {
  size_t begin;
  size_t end;
};

std::vector<Word> SplitWords(std::string_view line) {
  std::vector<Word> words;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    if (i >= line.size()) break;
    size_t b = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
    words.push_back({b, i});
  }
  return words;
}

// True for the `[user@2022-06-02T05:54:34]` suffix scontrol adds after a reason.
bool IsReasonStamp(std::string_view word) {
  if (word.size() < 4 || word.front() != '[' || word.back() != ']') return false;
  std::string_view inner = word.substr(1, word.size() - 2);
  size_t at = inner.find('@');
  return at != std::string_view::npos && at > 0 && at + 1 < inner.size() &&
         inner.find_first_of("[]") == std::string_view::npos;
}

std::string LineLabel(int line_no) {
  return "scontrol show node output line " + std::to_string(line_no);
}

// Splits one physical line into key/value pairs (appending to `fields`).
Status ParseFields(std::string_view line, int line_no,
                   std::vector<std::pair<std::string, std::string>>& fields) {
  std::vector<Word> words = SplitWords(line);
  size_t w = 0;
  while (w < words.size()) {
    std::string_view word = line.substr(words[w].begin, words[w].end - words[w].begin);
    size_t klen = KeyLength(word);
    if (klen == 0) {
      return InvalidInput(
          LineLabel(line_no) + ": expected Key=value, found \"" + std::string(word) + "\"",
          SourceLoc{"scontrol", line_no, static_cast<int>(words[w].begin) + 1});
    }
    std::string key(word.substr(0, klen));
    size_t value_begin = words[w].begin + klen + 1;
    size_t value_end = words[w].end;
    size_t next = w + 1;
    bool done = false;
    if (key == "Reason") {
      // Up to and including the first ` [user@time]` word, if there is one.
      for (size_t j = w + 1; j < words.size(); ++j) {
        if (IsReasonStamp(line.substr(words[j].begin, words[j].end - words[j].begin))) {
          value_end = words[j].end;
          next = j + 1;
          done = true;
          break;
        }
      }
    }
    if (!done) {
      // Words without `Key=` belong to this value (OS=Linux 6.1.0 #1 SMP ...).
      while (next < words.size() &&
             KeyLength(line.substr(words[next].begin, words[next].end - words[next].begin)) == 0) {
        value_end = words[next].end;
        ++next;
      }
    }
    std::string value = value_end > value_begin
                            ? std::string(line.substr(value_begin, value_end - value_begin))
                            : std::string();
    fields.emplace_back(std::move(key), std::move(value));
    w = next;
  }
  return Status::Ok();
}

std::vector<std::string> SplitOn(std::string_view s, char sep) {
  std::vector<std::string> parts;
  if (s.empty()) return parts;
  size_t b = 0;
  while (true) {
    size_t e = s.find(sep, b);
    parts.emplace_back(s.substr(b, e == std::string_view::npos ? std::string_view::npos : e - b));
    if (e == std::string_view::npos) break;
    b = e + 1;
  }
  return parts;
}

Status ParseState(std::string_view text, int line_no, NodeInfo& node) {
  std::vector<std::string> parts = SplitOn(text, '+');
  if (parts.empty() || parts[0].empty()) {
    return InvalidInput(LineLabel(line_no) + ": node " + node.name +
                        ": expected State=BASE[+FLAG...], found State=\"" + std::string(text) +
                        "\"");
  }
  std::string base = parts[0];
  bool no_respond = false;
  if (base.back() == '*') {
    base.pop_back();
    no_respond = true;
  }
  for (char c : base) {
    if (!(std::isupper(static_cast<unsigned char>(c)) || c == '_')) {
      return InvalidInput(LineLabel(line_no) + ": node " + node.name +
                          ": expected an upper-case state word, found State=\"" +
                          std::string(text) + "\"");
    }
  }
  node.base_state = base;
  node.flags.clear();
  for (size_t i = 1; i < parts.size(); ++i) {
    std::string flag = parts[i];
    if (!flag.empty() && flag.back() == '*') {
      flag.pop_back();
      no_respond = true;
    }
    if (flag.empty()) {
      return InvalidInput(LineLabel(line_no) + ": node " + node.name + ": empty flag in State=\"" +
                          std::string(text) + "\"");
    }
    if (!node.HasFlag(flag)) node.flags.push_back(flag);
  }
  if (no_respond && !node.HasFlag("NOT_RESPONDING")) node.flags.push_back("NOT_RESPONDING");
  return Status::Ok();
}

Status ParseInt(const std::map<std::string, std::string>& fields, const char* key, int line_no,
                const std::string& node, int& out) {
  auto it = fields.find(key);
  if (it == fields.end()) return Status::Ok();
  const std::string& v = it->second;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (ec != std::errc() || p != v.data() + v.size()) {
    return InvalidInput(LineLabel(line_no) + ": node " + node + ": expected a number for " + key +
                        "=, found \"" + v + "\"");
  }
  return Status::Ok();
}

// Builds a NodeInfo from the fields of one record that started on `line_no`.
Result<NodeInfo> MakeNode(const std::vector<std::pair<std::string, std::string>>& pairs,
                          int line_no) {
  NodeInfo node;
  for (const auto& [k, v] : pairs) node.fields[k] = v;
  node.name = node.fields["NodeName"];
  if (node.name.empty()) {
    return InvalidInput(LineLabel(line_no) + ": expected NodeName=NAME, found an empty name");
  }
  auto state = node.fields.find("State");
  if (state == node.fields.end()) {
    return InvalidInput(LineLabel(line_no) + ": node " + node.name + ": no State= field");
  }
  if (Status s = ParseState(state->second, line_no, node); !s.ok()) return s.error();
  if (Status s = ParseInt(node.fields, "CPUTot", line_no, node.name, node.cpus_total); !s.ok()) {
    return s.error();
  }
  if (Status s = ParseInt(node.fields, "CPUAlloc", line_no, node.name, node.cpus_alloc); !s.ok()) {
    return s.error();
  }
  if (auto it = node.fields.find("Gres"); it != node.fields.end() && it->second != "(null)") {
    node.gres = it->second;
  }
  if (auto it = node.fields.find("Partitions"); it != node.fields.end()) {
    node.partitions = SplitOn(it->second, ',');
  }
  if (auto it = node.fields.find("Reason"); it != node.fields.end()) {
    std::string reason = it->second;
    size_t sp = reason.rfind(' ');
    std::string_view last = sp == std::string::npos ? std::string_view(reason)
                                                    : std::string_view(reason).substr(sp + 1);
    if (IsReasonStamp(last)) reason = sp == std::string::npos ? "" : reason.substr(0, sp);
    while (!reason.empty() && reason.back() == ' ') reason.pop_back();
    node.reason = reason;
  }
  return node;
}

}  // namespace

bool NodeInfo::HasFlag(std::string_view flag) const {
  return std::find(flags.begin(), flags.end(), flag) != flags.end();
}

bool NodeInfo::RunsJobs() const {
  // COMPLETING: a job's epilog still runs on the node, which is not yet safe to reimage or
  // power off.
  return base_state == "ALLOCATED" || base_state == "MIXED" || HasFlag("COMPLETING") ||
         cpus_alloc > 0;
}

bool NodeInfo::IsDrained() const {
  // Slurm's IS_NODE_DRAINED is DRAIN without ALLOCATED/MIXED; we also wait for COMPLETING.
  return HasFlag("DRAIN") && !RunsJobs();
}

bool NodeInfo::IsInService() const {
  bool base_ok = base_state == "IDLE" || base_state == "ALLOCATED" || base_state == "MIXED";
  return base_ok && !HasFlag("DRAIN") && !HasFlag("FAIL") && !HasFlag("NOT_RESPONDING");
}

std::string NodeInfo::StateText() const {
  std::string text = base_state;
  for (const auto& f : flags) text += "+" + f;
  return text;
}

Result<std::vector<NodeInfo>> ParseShowNodes(std::string_view text) {
  std::vector<NodeInfo> nodes;
  std::vector<std::pair<std::string, std::string>> record;
  int record_line = 0;
  auto flush = [&]() -> Status {
    if (record.empty()) return Status::Ok();
    Result<NodeInfo> node = MakeNode(record, record_line);
    record.clear();
    if (!node.ok()) return node.error();
    nodes.push_back(std::move(*node));
    return Status::Ok();
  };
  int line_no = 0;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t eol = text.find('\n', pos);
    std::string_view line =
        text.substr(pos, eol == std::string_view::npos ? std::string_view::npos : eol - pos);
    pos = eol == std::string_view::npos ? text.size() + 1 : eol + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find_first_not_of(" \t") == std::string_view::npos) {
      if (Status s = flush(); !s.ok()) return s.error();
      continue;
    }
    bool continuation = line[0] == ' ' || line[0] == '\t';
    if (!continuation) {
      if (Status s = flush(); !s.ok()) return s.error();
      if (line.substr(0, 9) != "NodeName=") {
        size_t end = line.find(' ');
        return InvalidInput(LineLabel(line_no) + ": expected a line starting NodeName=, found \"" +
                                std::string(line.substr(0, std::min<size_t>(end, 60))) + "\"",
                            SourceLoc{"scontrol", line_no, 1});
      }
      record_line = line_no;
    } else if (record.empty()) {
      return InvalidInput(LineLabel(line_no) + ": indented line before any NodeName= line",
                          SourceLoc{"scontrol", line_no, 1});
    }
    if (Status s = ParseFields(line, line_no, record); !s.ok()) return s.error();
  }
  if (Status s = flush(); !s.ok()) return s.error();
  return nodes;
}

}  // namespace racksmith::slurm
