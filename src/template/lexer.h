// Internal: splits template source into tokens the way Jinja2's lexer does, applying
// whitespace control (`-`/`+` markers, trim_blocks, lstrip_blocks, keep_trailing_newline)
// while scanning so that the parser never sees stripped whitespace.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "template/template.h"

namespace racksmith::tmpl {

enum class Tok : uint8_t {
  kData,        // literal text
  kVarBegin,    // {{
  kVarEnd,      // }}
  kBlockBegin,  // {%
  kBlockEnd,    // %}
  kName,
  kInt,
  kFloat,
  kString,
  kOp,
  kEof,
};

struct Token {
  Tok type;
  std::string text;  // data, name, decoded string, or operator
  int64_t int_value = 0;
  double float_value = 0;
  int line = 0;
  int col = 0;
  uint32_t offset = 0;  // byte offset of the token in the normalized source
};

// Jinja2 converts every line break (\r\n, \r, and the other Unicode breaks) to "\n" and
// drops one trailing newline unless keep_trailing_newline.
std::string NormalizeSource(std::string_view source, bool keep_trailing_newline);

// Tokenizes normalized source. Fails (RenderError) on an unterminated tag, comment,
// string or raw block, or a character no token starts with.
std::vector<Token> Tokenize(const std::string& source, const TemplateOptions& options);

}  // namespace racksmith::tmpl
