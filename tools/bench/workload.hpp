// The documents and queries of the index benchmarks (sparse, mixed, memory,
// million): sparse TF-IDF vectors with the mail corpus's term distribution.
//
//   --data=drawn   (default) every term of the corpus's vocabulary occurs in
//                  each document independently with the probability it has
//                  in the corpus (its document frequency / 6,046), with one
//                  of its corpus tf-idf values at random; l2-normalised.
//                  Term frequencies match the corpus at any size; documents
//                  are not copies of each other.
//   --data=copies  the corpus's mails re-indexed under fresh ids (document i
//                  is mail i mod 6,046: every mail repeats, so ties abound).
//   --data=zipf    the older Zipf-Mandelbrot synthetic (bench/synthetic.hpp);
//                  also what runs when data/spamassassin.jsonl is missing.
//
// Vectors come from the TfidfVectorizer's model fitted on the corpus; texts
// are those of the corpus's mails (storage holds text of a real size).
// Queries are real: the start (1,000 characters, headers and all) of every
// k-th mail, vectorised by the same model — what a user pasting a mail
// searches. Deterministic: document i is the same in every call and run.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "caflow/document.hpp"

namespace caflow::bench {

/// A source of documents and queries (see the file comment).
class Workload {
 public:
  virtual ~Workload() = default;

  /// From `--data=drawn|copies|zipf` and `--corpus=PATH`; `n` is the size
  /// the zipf synthetic's idf assumes. Prints what it uses on stderr.
  static std::unique_ptr<Workload> make(int argc, char** argv, size_t n);

  /// "drawn", "copies" or "zipf" (benchmarks print it as "data").
  [[nodiscard]] virtual std::string name() const = 0;
  /// The vectors' dimension.
  [[nodiscard]] virtual uint32_t dimension() const = 0;
  /// Documents first .. first + count - 1, ids "doc-<i>", texts when `text`.
  [[nodiscard]] virtual std::vector<Document> documents(uint64_t first, size_t count,
                                                        bool text) const = 0;
  /// `count` queries (embeddings only).
  [[nodiscard]] virtual std::vector<Document> queries(size_t count) const = 0;
};

}  // namespace caflow::bench
