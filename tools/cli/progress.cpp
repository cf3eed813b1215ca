#include "cli/progress.hpp"

#include <cmath>

namespace caflow::cli {

std::string format_elapsed(double seconds) {
  auto s = static_cast<long>(std::lround(seconds));
  char buf[32];
  std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", s / 3600, (s / 60) % 60, s % 60);
  return buf;
}

ProgressBar::ProgressBar(std::string label, bool enabled, std::FILE* out)
  : label_(std::move(label)),
    enabled_(enabled),
    out_(out),
    start_(std::chrono::steady_clock::now()) {
}

double ProgressBar::elapsed() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

void ProgressBar::update(size_t done, size_t total) {
  if (!enabled_)
    return;
  std::lock_guard<std::mutex> guard{mutex_};
  auto now = std::chrono::steady_clock::now();
  if (done < total && now - last_draw_ < std::chrono::milliseconds(100))
    return;
  last_draw_ = now;
  draw(done, total);
}

void ProgressBar::draw(size_t done, size_t total) {
  constexpr int width = 30;
  double fraction = total == 0 ? 1.0 : static_cast<double>(done) / static_cast<double>(total);
  int filled = static_cast<int>(fraction * width);
  std::string bar(static_cast<size_t>(filled), '=');
  if (filled < width)
    bar += '>' + std::string(static_cast<size_t>(width - filled - 1), ' ');
  double secs = elapsed();
  double rate = secs > 0 ? static_cast<double>(done) / secs : 0.0;
  std::fprintf(out_, "\r\033[K%s [%s] %zu/%zu %3.0f%%  %s  %.1f step/s", label_.c_str(),
               bar.c_str(), done, total, fraction * 100, format_elapsed(secs).c_str(), rate);
  std::fflush(out_);
}

void ProgressBar::finish(size_t done) {
  if (!enabled_)
    return;
  std::lock_guard<std::mutex> guard{mutex_};
  draw(done, done);
  std::fprintf(out_, "\n%zu steps done in %.1f seconds\n", done, elapsed());
  std::fflush(out_);
}

}  // namespace caflow::cli
