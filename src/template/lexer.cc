#include "template/lexer.h"

#include <algorithm>
#include <cstring>

#include "template/value.h"

namespace racksmith::tmpl {

std::string NormalizeSource(std::string_view source, bool keep_trailing_newline) {
  std::vector<std::string> lines = SplitLines(source);
  std::string out;
  out.reserve(source.size());
  for (size_t i = 0; i < lines.size(); ++i) {
    if (i) out += '\n';
    out += lines[i];
  }
  // Jinja2 re-adds one newline only for \n, \r\n or \r endings.
  if (keep_trailing_newline && !source.empty() && (source.back() == '\n' || source.back() == '\r'))
    out += '\n';
  return out;
}

namespace {

class Lexer {
 public:
  Lexer(const std::string& src, const TemplateOptions& opt) : src_(src), opt_(opt) {
    line_starts_.push_back(0);
    for (size_t i = 0; i < src.size(); ++i)
      if (src[i] == '\n') line_starts_.push_back(i + 1);
  }

  std::vector<Token> Run() {
    size_t pos = 0;
    while (pos < src_.size()) {
      size_t idx = FindTagStart(pos);
      std::string text = src_.substr(pos, (idx == std::string::npos ? src_.size() : idx) - pos);
      ApplyLeading(text);
      if (idx == std::string::npos) {
        EmitData(text, pos);
        break;
      }
      char kind = src_[idx + 1];
      char mod = idx + 2 < src_.size() ? src_[idx + 2] : '\0';
      bool raw = kind == '%' && IsRawBegin(idx);
      if (mod == '-') {
        RStrip(text);
      } else if (opt_.lstrip_blocks && kind != '{' && mod != '+') {
        LStripBlock(text, pos);
      }
      EmitData(text, pos);
      if (raw) {
        pos = LexRaw(idx);
      } else if (kind == '#') {
        pos = LexComment(idx);
      } else {
        pos = LexTag(idx, kind == '%');
      }
    }
    Add(Tok::kEof, "", src_.size());
    return std::move(tokens_);
  }

 private:
  size_t FindTagStart(size_t pos) const {
    while (true) {
      size_t i = src_.find('{', pos);
      if (i == std::string::npos || i + 1 >= src_.size()) return std::string::npos;
      char c = src_[i + 1];
      if (c == '{' || c == '%' || c == '#') return i;
      pos = i + 1;
    }
  }

  void ApplyLeading(std::string& text) {
    if (strip_next_) {
      size_t k = 0;
      while (k < text.size() && IsPySpace(text[k])) ++k;
      text.erase(0, k);
    } else if (trim_next_ && !text.empty() && text[0] == '\n') {
      text.erase(0, 1);
    }
    strip_next_ = trim_next_ = false;
  }

  static void RStrip(std::string& text) {
    size_t k = text.size();
    while (k > 0 && IsPySpace(text[k - 1])) --k;
    text.resize(k);
  }

  // lstrip_blocks: drop spaces and tabs between a line start and a block or comment tag.
  void LStripBlock(std::string& text, size_t text_pos) const {
    size_t nl = text.rfind('\n');
    size_t from = nl == std::string::npos ? 0 : nl + 1;
    bool line_start = nl != std::string::npos || text_pos == 0 || src_[text_pos - 1] == '\n';
    if (!line_start) return;
    for (size_t k = from; k < text.size(); ++k)
      if (text[k] != ' ' && text[k] != '\t') return;
    text.resize(from);
  }

  void EmitData(const std::string& text, size_t pos) {
    if (!text.empty()) Add(Tok::kData, text, pos);
  }

  void Add(Tok type, std::string text, size_t offset) {
    Token t;
    t.type = type;
    t.text = std::move(text);
    t.offset = static_cast<uint32_t>(offset);
    auto it = std::upper_bound(line_starts_.begin(), line_starts_.end(), offset);
    size_t line = static_cast<size_t>(it - line_starts_.begin());
    t.line = static_cast<int>(line);
    t.col = static_cast<int>(offset - line_starts_[line - 1] + 1);
    tokens_.push_back(std::move(t));
  }

  [[noreturn]] void ErrorAt(size_t offset, const std::string& msg) {
    Add(Tok::kEof, "", offset);
    Fail(msg, tokens_.back().line, tokens_.back().col);
  }

  size_t SkipSpace(size_t p) const {
    while (p < src_.size() && IsPySpace(src_[p])) ++p;
    return p;
  }

  bool MatchWord(size_t& p, const char* word) const {
    size_t n = std::strlen(word);
    if (src_.compare(p, n, word) != 0) return false;
    size_t e = p + n;
    if (e < src_.size() && (std::isalnum(static_cast<unsigned char>(src_[e])) || src_[e] == '_'))
      return false;
    p = e;
    return true;
  }

  bool IsRawBegin(size_t idx) const {
    size_t p = idx + 2;
    if (p < src_.size() && (src_[p] == '-' || src_[p] == '+')) ++p;
    p = SkipSpace(p);
    if (!MatchWord(p, "raw")) return false;
    p = SkipSpace(p);
    if (p < src_.size() && src_[p] == '-') ++p;
    return src_.compare(p, 2, "%}") == 0;
  }

  size_t LexRaw(size_t idx) {
    size_t p = idx + 2;
    if (src_[p] == '-' || src_[p] == '+') ++p;
    p = SkipSpace(p);
    p += 3;
    p = SkipSpace(p);
    bool strip_after_begin = src_[p] == '-';
    if (strip_after_begin) ++p;
    p += 2;  // %}
    if (strip_after_begin) p = SkipSpace(p);
    // Find {%[-+]? endraw [-+]?%}
    size_t search = p;
    while (true) {
      size_t e = src_.find("{%", search);
      if (e == std::string::npos)
        ErrorAt(idx, "unterminated {% raw %} block: expected {% endraw %}");
      size_t q = e + 2;
      char mod = src_[q];
      if (q < src_.size() && (mod == '-' || mod == '+')) ++q;
      q = SkipSpace(q);
      if (!MatchWord(q, "endraw")) {
        search = e + 2;
        continue;
      }
      q = SkipSpace(q);
      char end_mod = q < src_.size() ? src_[q] : '\0';
      if (end_mod == '-' || end_mod == '+') ++q;
      if (src_.compare(q, 2, "%}") != 0) {
        search = e + 2;
        continue;
      }
      std::string content = src_.substr(p, e - p);
      if (mod == '-') {
        RStrip(content);
      } else if (opt_.lstrip_blocks && mod != '+') {
        LStripBlock(content, p);
      }
      EmitData(content, p);
      strip_next_ = end_mod == '-';
      trim_next_ = end_mod != '+' && end_mod != '-' && opt_.trim_blocks;
      return q + 2;
    }
  }

  size_t LexComment(size_t idx) {
    size_t e = src_.find("#}", idx + 2);
    if (e == std::string::npos) ErrorAt(idx, "unterminated comment: expected '#}'");
    char mod = e > idx + 2 ? src_[e - 1] : '\0';
    strip_next_ = mod == '-';
    trim_next_ = mod != '-' && mod != '+' && opt_.trim_blocks;
    return e + 2;
  }

  size_t LexTag(size_t idx, bool block) {
    Add(block ? Tok::kBlockBegin : Tok::kVarBegin, block ? "{%" : "{{", idx);
    size_t p = idx + 2;
    if (p < src_.size() && (src_[p] == '-' || (block && src_[p] == '+'))) ++p;
    int depth = 0;
    while (true) {
      p = SkipSpace(p);
      if (p >= src_.size())
        ErrorAt(idx, std::string("unterminated tag: expected '") + (block ? "%}" : "}}") + "'");
      if (depth == 0) {
        const char* end = block ? "%}" : "}}";
        char c = src_[p];
        if ((c == '-' || (block && c == '+')) && src_.compare(p + 1, 2, end) == 0) {
          Add(block ? Tok::kBlockEnd : Tok::kVarEnd, end, p);
          strip_next_ = c == '-';
          return p + 3;
        }
        if (src_.compare(p, 2, end) == 0) {
          Add(block ? Tok::kBlockEnd : Tok::kVarEnd, end, p);
          trim_next_ = block && opt_.trim_blocks;
          return p + 2;
        }
      }
      p = LexOne(p, depth);
    }
  }

  size_t LexOne(size_t p, int& depth) {
    unsigned char c = src_[p];
    if (std::isdigit(c)) return LexNumber(p);
    if (std::isalpha(c) || c == '_') {
      size_t e = p;
      while (e < src_.size() &&
             (std::isalnum(static_cast<unsigned char>(src_[e])) || src_[e] == '_'))
        ++e;
      Add(Tok::kName, src_.substr(p, e - p), p);
      return e;
    }
    if (c == '\'' || c == '"') return LexString(p);
    static const char* kTwo[] = {"//", "**", "==", "!=", ">=", "<="};
    for (const char* op : kTwo) {
      if (src_.compare(p, 2, op) == 0) {
        Add(Tok::kOp, op, p);
        return p + 2;
      }
    }
    if (std::strchr("+-*/%~<>=()[]{}.,:|;", c) != nullptr && c != '\0') {
      if (c == '(' || c == '[' || c == '{') ++depth;
      if ((c == ')' || c == ']' || c == '}') && depth > 0) --depth;
      Add(Tok::kOp, std::string(1, static_cast<char>(c)), p);
      return p + 1;
    }
    ErrorAt(p, std::string("unexpected character '") + static_cast<char>(c) + "' in tag");
  }

  size_t LexNumber(size_t p) {
    size_t start = p;
    auto digits = [&](auto pred) {
      std::string d;
      while (p < src_.size() && (pred(src_[p]) || (src_[p] == '_' && p + 1 < src_.size() &&
                                                   pred(src_[p + 1]) && !d.empty()))) {
        if (src_[p] != '_') d += src_[p];
        ++p;
      }
      return d;
    };
    auto is_dec = [](char ch) { return ch >= '0' && ch <= '9'; };
    if (src_[p] == '0' && p + 1 < src_.size() && std::strchr("xXoObB", src_[p + 1]) &&
        src_[p + 1] != '\0') {
      char b = static_cast<char>(std::tolower(src_[p + 1]));
      int base = b == 'x' ? 16 : b == 'o' ? 8 : 2;
      p += 2;
      std::string d = digits([base](char ch) {
        return base == 16 ? std::isxdigit(static_cast<unsigned char>(ch)) != 0
                          : (ch >= '0' && ch < '0' + base);
      });
      return AddInt(d, base, start, p);
    }
    std::string whole = digits(is_dec);
    bool is_float = false;
    std::string text = whole;
    if (p + 1 < src_.size() && src_[p] == '.' && is_dec(src_[p + 1])) {
      ++p;
      text += "." + digits(is_dec);
      is_float = true;
    }
    if (p < src_.size() && (src_[p] == 'e' || src_[p] == 'E')) {
      size_t q = p + 1;
      if (q < src_.size() && (src_[q] == '+' || src_[q] == '-')) ++q;
      if (q < src_.size() && is_dec(src_[q])) {
        text += src_.substr(p, q - p);
        p = q;
        text += digits(is_dec);
        is_float = true;
      }
    }
    if (!is_float) return AddInt(whole, 10, start, p);
    Add(Tok::kFloat, text, start);
    tokens_.back().float_value = std::strtod(text.c_str(), nullptr);
    return p;
  }

  size_t AddInt(const std::string& d, int base, size_t start, size_t p) {
    if (d.empty()) ErrorAt(start, "malformed number literal");
    errno = 0;
    char* end = nullptr;
    unsigned long long v = std::strtoull(d.c_str(), &end, base);
    if (errno == ERANGE || v > static_cast<unsigned long long>(INT64_MAX))
      ErrorAt(start, "not supported: integer literal beyond 64 bits");
    Add(Tok::kInt, d, start);
    tokens_.back().int_value = static_cast<int64_t>(v);
    return p;
  }

  static void AppendUtf8(std::string& out, uint32_t cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xc0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xe0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
      out += static_cast<char>(0x80 | (cp & 0x3f));
    } else {
      out += static_cast<char>(0xf0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
      out += static_cast<char>(0x80 | (cp & 0x3f));
    }
  }

  size_t LexString(size_t p) {
    char q = src_[p];
    size_t start = p++;
    std::string out;
    while (true) {
      if (p >= src_.size()) ErrorAt(start, "unterminated string literal");
      char c = src_[p];
      if (c == q) break;
      if (c != '\\') {
        out += c;
        ++p;
        continue;
      }
      if (p + 1 >= src_.size()) ErrorAt(start, "unterminated string literal");
      char e = src_[p + 1];
      p += 2;
      auto hex = [&](int n) -> uint32_t {
        if (p + n > src_.size()) ErrorAt(p, "truncated \\x/\\u escape in string literal");
        uint32_t v = 0;
        for (int k = 0; k < n; ++k) {
          char h = src_[p + k];
          if (!std::isxdigit(static_cast<unsigned char>(h)))
            ErrorAt(p, "truncated \\x/\\u escape in string literal");
          v = v * 16 + (std::isdigit(static_cast<unsigned char>(h)) ? h - '0'
                                                                    : (std::tolower(h) - 'a' + 10));
        }
        p += n;
        return v;
      };
      switch (e) {
        case 'n':
          out += '\n';
          break;
        case 't':
          out += '\t';
          break;
        case 'r':
          out += '\r';
          break;
        case '\\':
          out += '\\';
          break;
        case '\'':
          out += '\'';
          break;
        case '"':
          out += '"';
          break;
        case 'a':
          out += '\a';
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'v':
          out += '\v';
          break;
        case '\n':
          break;
        case 'x':
          AppendUtf8(out, hex(2));
          break;
        case 'u':
          AppendUtf8(out, hex(4));
          break;
        case 'U': {
          uint32_t cp = hex(8);
          if (cp > 0x10ffff) ErrorAt(p, "invalid \\U escape in string literal");
          AppendUtf8(out, cp);
          break;
        }
        default:
          if (e >= '0' && e <= '7') {
            uint32_t v = e - '0';
            for (int k = 0; k < 2 && p < src_.size() && src_[p] >= '0' && src_[p] <= '7'; ++k)
              v = v * 8 + (src_[p++] - '0');
            AppendUtf8(out, v);
          } else {
            out += '\\';
            out += e;
          }
      }
    }
    Add(Tok::kString, out, start);
    return p + 1;
  }

  const std::string& src_;
  const TemplateOptions& opt_;
  std::vector<size_t> line_starts_;
  std::vector<Token> tokens_;
  bool strip_next_ = false;
  bool trim_next_ = false;
};

}  // namespace

std::vector<Token> Tokenize(const std::string& source, const TemplateOptions& options) {
  return Lexer(source, options).Run();
}

}  // namespace racksmith::tmpl
