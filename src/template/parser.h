// Internal: builds the AST from tokens with Jinja2's grammar and operator precedence.
#pragma once

#include <string>
#include <vector>

#include "template/ast.h"
#include "template/lexer.h"

namespace racksmith::tmpl {

// Parses a whole template. Fails (RenderError) with the token's line:col on a syntax error,
// an unknown or unsupported tag, or nesting deeper than max_nesting.
Body Parse(const std::vector<Token>& tokens, const std::string& source, int max_nesting);

}  // namespace racksmith::tmpl
