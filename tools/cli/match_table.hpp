// A readable table of search results for a terminal.
#pragma once

#include <ostream>

#include "caflow/document.hpp"

namespace caflow::cli {

/// For each query: its text (shortened), then one row per match with rank,
/// id, score, the `group` tag when present, and a title: the mail's Subject
/// line when the text has one, else its first line.
void print_match_table(std::ostream& out, const DocumentArray& queries);

/// The value of the first "Subject:" header line of `text`, else its first
/// non-empty line; at most `width` characters, on one line.
std::string title_of(const std::string& text, size_t width);

}  // namespace caflow::cli
