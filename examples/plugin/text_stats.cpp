// An executor plugin: compiled as a shared library, loaded by a flow that
// names it (`with: {plugins: [path/libcaflow-text-stats.so]}`) or by
// `caflow flow --plugin`, and then usable as `uses: TextStats`.
//
// It tags every document with the number of words and lines in its text,
// and `/stats` answers the totals of a request in the response parameters.
#include <cctype>
#include <cstdint>
#include <string_view>

#include <caflow/executor.hpp>

namespace {

struct Counts {
  int64_t words = 0;
  int64_t lines = 0;
};

Counts count(const std::string& text) {
  Counts c;
  bool in_word = false;
  for (unsigned char ch : text) {
    bool space = std::isspace(ch) != 0;
    if (!space && !in_word)
      ++c.words;
    in_word = !space;
    if (ch == '\n')
      ++c.lines;
  }
  if (!text.empty() && text.back() != '\n')
    ++c.lines;
  return c;
}

class TextStats : public caflow::Executor {
 public:
  // The uses_with keys it reads: a flow refuses any other (a typo).
  static constexpr std::string_view uses_with_keys[] = {"min_words"};

  explicit TextStats(caflow::ExecutorContext ctx)
    : Executor(std::move(ctx)), min_words_(context().get("min_words", 0)) {
    on("/stats", &TextStats::stats);
    on("*", &TextStats::tag);
  }

  // Tags each document; drops those shorter than uses_with.min_words.
  void tag(caflow::DocumentArray& docs, const caflow::Params&) {
    caflow::DocumentArray kept;
    for (auto& doc : docs) {
      auto c = count(doc.text);
      if (c.words < min_words_)
        continue;
      doc.tags["words"] = c.words;
      doc.tags["lines"] = c.lines;
      kept.push_back(std::move(doc));
    }
    docs = std::move(kept);
  }

  caflow::Params stats(caflow::DocumentArray& docs, const caflow::Params&) {
    Counts total;
    for (const auto& doc : docs) {
      auto c = count(doc.text);
      total.words += c.words;
      total.lines += c.lines;
    }
    return caflow::Params{{"words", total.words}, {"lines", total.lines}};
  }

 private:
  int64_t min_words_;
};

}  // namespace

CAFLOW_REGISTER_EXECUTOR(TextStats);
