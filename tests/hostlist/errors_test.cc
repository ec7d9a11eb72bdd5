// Malformed expressions: each is an InvalidInput error naming the 1-based column and what was
// expected there. The exact text is part of the interface (inventory errors quote it).
#include <catch2/catch.hpp>

#include "hostlist/hostlist.h"

namespace racksmith::hostlist {
namespace {

// The error message for `expression`, after checking that it is an InvalidInput at `col`.
std::string ErrorAt(std::string_view expression, int col) {
  auto r = Expand(expression);
  INFO(expression);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code() == ErrorCode::kInvalidInput);
  CHECK(r.error().where().col == col);
  auto c = Count(expression);
  REQUIRE_FALSE(c.ok());
  CHECK(c.error().message() == r.error().message());
  return r.error().message();
}

TEST_CASE("A reversed range is an error at the range", "[hostlist]") {
  CHECK(ErrorAt("n[5-1]", 3) ==
        "hostlist \"n[5-1]\" column 3: expected a range from low to high, found 5-1 (reversed)");
}

TEST_CASE("An unclosed bracket is an error at the bracket", "[hostlist]") {
  CHECK(ErrorAt("a,n[1-3", 4) ==
        "hostlist \"a,n[1-3\" column 4: expected ']' to close this '[', found none");
  CHECK(ErrorAt("n[", 2) == "hostlist \"n[\" column 2: expected ']' to close this '[', found none");
}

TEST_CASE("A closing bracket without an opening one is an error", "[hostlist]") {
  CHECK(ErrorAt("n1-3]", 5) ==
        "hostlist \"n1-3]\" column 5: expected a '[' before this ']', found none");
  CHECK(ErrorAt("n[1-3]]", 7) ==
        "hostlist \"n[1-3]]\" column 7: expected a '[' before this ']', found none");
}

TEST_CASE("An empty expression is an error", "[hostlist]") {
  CHECK(ErrorAt("", 1) ==
        "hostlist \"\" column 1: expected at least one name, found an empty hostlist");
  ErrorAt(" \t", 1);
}

TEST_CASE("An empty name between commas is an error", "[hostlist]") {
  CHECK(ErrorAt("a,,b", 3) ==
        "hostlist \"a,,b\" column 3: expected a name between the commas "
        "at columns 2 and 3, found none");
  CHECK(ErrorAt(",a", 1) == "hostlist \",a\" column 1: expected a name before ','");
  CHECK(ErrorAt("a, ", 2) ==
        "hostlist \"a, \" column 2: expected a name after ',', found end of expression");
}

TEST_CASE("Empty or non-numeric range items are errors at the item", "[hostlist]") {
  CHECK(ErrorAt("n[]", 3) == "hostlist \"n[]\" column 3: expected a digit, found ']'");
  CHECK(ErrorAt("n[1,]", 5) == "hostlist \"n[1,]\" column 5: expected a digit, found ']'");
  CHECK(ErrorAt("n[a-b]", 3) == "hostlist \"n[a-b]\" column 3: expected a digit, found 'a'");
  ErrorAt("n[1-]", 5);
  ErrorAt("n[-3]", 3);
  ErrorAt("n[1--3]", 5);
  ErrorAt("n[+1-3]", 3);
  ErrorAt("n[[1-3]]", 3);
}

TEST_CASE("A range with two dashes or a space is an error", "[hostlist]") {
  CHECK(ErrorAt("n[1-2-3]", 6) ==
        "hostlist \"n[1-2-3]\" column 6: expected ',', '-' or ']' after a number, found '-'");
  CHECK(ErrorAt("n[1 -3]", 4) ==
        "hostlist \"n[1 -3]\" column 4: expected ',', '-' or ']' after a number, found a space");
}

TEST_CASE("Text after the last bracket group is an error as in Slurm", "[hostlist]") {
  CHECK(ErrorAt("a.b[1-2].c", 9) ==
        "hostlist \"a.b[1-2].c\" column 9: expected ',' or the end after ']', found \".c\" (as "
        "in Slurm, text may not follow the last bracket)");
  ErrorAt("n[1-3]x[2]y", 11);
  ErrorAt("gpu[1-2]-ib,x", 9);
}

TEST_CASE("Characters outside hostnames are errors", "[hostlist]") {
  CHECK(ErrorAt("n@1", 2) ==
        "hostlist \"n@1\" column 2: expected a letter, digit, '-', '.', "
        "'_', '[' or ',', found '@'");
  CHECK(ErrorAt("n\x01", 2) ==
        "hostlist \"n\\x01\" column 2: expected a letter, digit, '-', "
        "'.', '_', '[' or ',', found byte 0x01");
  ErrorAt("a:b", 2);
  ErrorAt("a/b", 2);
}

TEST_CASE("More than kMaxHosts names is an error, not an allocation", "[hostlist]") {
  CHECK(ErrorAt("n[0-999999999]", 1) ==
        "hostlist \"n[0-999999999]\" column 1: expected at most 1000000 names in all, found more "
        "once this name is expanded");
  ErrorAt("a[0-999]b[0-1000]", 1);
  ErrorAt("n[1-600000],m[1-600000]", 13);
  ErrorAt("a[0-999999999999]b[0-999999999999]c[0-999999999999]", 1);
}

TEST_CASE("Numbers longer than nineteen digits are an error", "[hostlist]") {
  CHECK(ErrorAt("n[12345678901234567890]", 3) ==
        "hostlist \"n[12345678901234567890]\" column 3: expected a number of at most 19 digits, "
        "found a longer one");
}

TEST_CASE("A long expression is cut in the message but the column stays exact", "[hostlist]") {
  std::string e = std::string(100, 'a') + "[2-1]";
  std::string msg = ErrorAt(e, 102);
  CHECK(msg == "hostlist \"" + std::string(60, 'a') +
                   "...\" column 102: expected a range from low to high, found 2-1 (reversed)");
}

TEST_CASE("CompressExpression reports the same errors as Expand", "[hostlist]") {
  auto r = CompressExpression("n[5-1]");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().where().col == 3);
  CHECK_FALSE(CompressExpression("n[0-999999999]").ok());
}

}  // namespace
}  // namespace racksmith::hostlist
