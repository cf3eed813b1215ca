#include "cli/match_table.hpp"

#include <cstdio>
#include <string_view>

namespace caflow::cli {

namespace {

std::string one_line(std::string_view text, size_t width) {
  std::string out;
  for (char c : text) {
    if (out.size() >= width)
      break;
    out += (c == '\n' || c == '\r' || c == '\t') ? ' ' : c;
  }
  while (!out.empty() && out.back() == ' ')
    out.pop_back();
  // Do not cut a UTF-8 sequence in half.
  while (!out.empty() && (static_cast<unsigned char>(out.back()) & 0xC0) == 0x80)
    out.pop_back();
  if (!out.empty() && (static_cast<unsigned char>(out.back()) & 0xC0) == 0xC0)
    out.pop_back();
  return out;
}

// The first score of a match (the metric it was ranked by).
std::pair<std::string, double> first_score(const Document& match) {
  if (match.scores.empty())
    return {"score", 0.0};
  return *match.scores.begin();
}

}  // namespace

std::string title_of(const std::string& text, size_t width) {
  std::string_view all = text;
  size_t pos = 0;
  while (pos < all.size()) {
    auto end = all.find('\n', pos);
    auto line = all.substr(pos, end == std::string_view::npos ? all.npos : end - pos);
    if (line.empty() || line == "\r")
      break;  // end of the mail's headers
    if (line.substr(0, 8) == "Subject:")
      return one_line(line.substr(line.find_first_not_of(' ', 8) == std::string_view::npos
                                    ? line.size()
                                    : line.find_first_not_of(' ', 8)),
                      width);
    if (end == std::string_view::npos)
      break;
    pos = end + 1;
  }
  auto start = all.find_first_not_of(" \r\n\t");
  return start == std::string_view::npos ? std::string{} : one_line(all.substr(start), width);
}

void print_match_table(std::ostream& out, const DocumentArray& queries) {
  for (const auto& query : queries) {
    out << "query: " << one_line(query.text.empty() ? query.id : query.text, 70) << '\n';
    if (query.matches.empty()) {
      out << "  (no matches)\n\n";
      continue;
    }
    auto [metric, unused] = first_score(query.matches.front());
    char line[512];
    std::snprintf(line, sizeof line, "  %-4s %-24s %10s  %-5s %s\n", "#", "id", metric.c_str(),
                  "group", "subject");
    out << line;
    int rank = 0;
    for (const auto& match : query.matches) {
      auto [name, score] = first_score(match);
      std::string group = match.tags.is_object() && match.tags.contains("group")
                            ? match.tags.get_string("group", "")
                            : "";
      std::snprintf(line, sizeof line, "  %-4d %-24s %10.4f  %-5s %s\n", ++rank,
                    one_line(match.id, 24).c_str(), score, group.c_str(),
                    title_of(match.text, 60).c_str());
      out << line;
    }
    out << '\n';
  }
}

}  // namespace caflow::cli
