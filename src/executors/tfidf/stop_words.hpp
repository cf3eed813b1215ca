/// scikit-learn's built-in English stop-word list (`stop_words="english"`).
#pragma once

#include <string_view>

namespace caflow::tfidf {

/// True when `token` is one of scikit-learn's ENGLISH_STOP_WORDS (318 words,
/// all lower-case ASCII). Thread-safe.
[[nodiscard]] bool is_english_stop_word(std::string_view token) noexcept;

/// The number of words in the list (318).
[[nodiscard]] size_t english_stop_word_count() noexcept;

}  // namespace caflow::tfidf
