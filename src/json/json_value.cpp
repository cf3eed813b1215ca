#include "caflow/json.hpp"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

#include <boost/json.hpp>
#include <boost/json/basic_parser_impl.hpp>

#include "caflow/errors.hpp"
#include "json/boost_bridge.hpp"
#include "json/json_fast.hpp"
#include "json/utf8.hpp"

namespace caflow {

namespace {

using boost::json::error_code;
using boost::json::string_view;

// Builds a Value straight from parser events. We do not use boost::json::parse
// because Boost 1.81 rounds some doubles wrongly (about one in five random
// doubles is off by an ulp); its events hand us the number's text, which
// std::from_chars converts exactly.
class value_builder {
 public:
  static constexpr size_t max_array_size = static_cast<size_t>(-1);
  static constexpr size_t max_object_size = static_cast<size_t>(-1);
  static constexpr size_t max_string_size = static_cast<size_t>(-1);
  static constexpr size_t max_key_size = static_cast<size_t>(-1);

  Value result;

  bool on_document_begin(error_code&) { return true; }
  bool on_document_end(error_code&) { return true; }
  bool on_array_begin(error_code&) { return open(Value::array()); }
  bool on_array_end(size_t, error_code&) { return close(); }
  bool on_object_begin(error_code&) { return open(Value::object()); }
  bool on_object_end(size_t, error_code&) { return close(); }
  bool on_string_part(string_view s, size_t, error_code&) {
    buf_.append(s.data(), s.size());
    return true;
  }
  bool on_string(string_view s, size_t, error_code&) {
    buf_.append(s.data(), s.size());
    bool ok = add(Value{std::move(buf_)});
    buf_.clear();
    return ok;
  }
  bool on_key_part(string_view s, size_t, error_code&) {
    buf_.append(s.data(), s.size());
    return true;
  }
  bool on_key(string_view s, size_t, error_code&) {
    buf_.append(s.data(), s.size());
    stack_.back().key = std::move(buf_);
    buf_.clear();
    return true;
  }
  bool on_number_part(string_view s, error_code&) {
    buf_.append(s.data(), s.size());
    return true;
  }
  bool on_int64(int64_t i, string_view, error_code&) {
    buf_.clear();
    return add(Value{i});
  }
  bool on_uint64(uint64_t u, string_view, error_code&) {
    buf_.clear();
    // Only values above INT64_MAX arrive here; Value has no unsigned kind.
    return add(Value{static_cast<double>(u)});
  }
  bool on_double(double d, string_view s, error_code& err) {
    buf_.append(s.data(), s.size());
    double exact = 0;
    auto [end, ec] = std::from_chars(buf_.data(), buf_.data() + buf_.size(), exact);
    // Out of range (1e400): keep Boost's value (an infinity or zero).
    if (ec == std::errc{} && end == buf_.data() + buf_.size())
      d = exact;
    buf_.clear();
    // A number beyond double's range (1e400) would be an infinity, which
    // to_json writes as null: refuse it rather than change the value (an
    // underflow to 0 is kept: it reads back equal).
    if (!std::isfinite(d)) {
      err = boost::system::errc::make_error_code(boost::system::errc::result_out_of_range);
      return false;
    }
    return add(Value{d});
  }
  bool on_bool(bool b, error_code&) { return add(Value{b}); }
  bool on_null(error_code&) { return add(Value{}); }
  bool on_comment_part(string_view, error_code&) { return true; }
  bool on_comment(string_view, error_code&) { return true; }

 private:
  struct frame {
    Value container;
    std::string key;  // pending key when the container is an object
  };

  bool open(Value container) {
    stack_.push_back(frame{std::move(container), {}});
    return true;
  }

  bool close() {
    auto top = std::move(stack_.back().container);
    stack_.pop_back();
    return add(std::move(top));
  }

  bool add(Value x) {
    if (stack_.empty()) {
      result = std::move(x);
      return true;
    }
    auto& top = stack_.back();
    if (top.container.is_array())
      top.container.as_array().push_back(std::move(x));
    else  // a repeated key keeps its last value, as most parsers do
      top.container.as_object().insert_or_assign(std::move(top.key), std::move(x));
    return true;
  }

  std::vector<frame> stack_;
  std::string buf_;
};

std::string position(std::string_view text, size_t offset) {
  size_t line = 1;
  size_t line_start = 0;
  for (size_t i = 0; i < offset && i < text.size(); ++i)
    if (text[i] == '\n') {
      ++line;
      line_start = i + 1;
    }
  return "line " + std::to_string(line) + ", column " + std::to_string(offset - line_start + 1);
}

// Bytes a JSON string must escape (control characters, '"' and '\\') or
// check (the start of a multi-byte sequence).
constexpr auto escapes = [] {
  struct table {
    bool needs[256];
  } t{};
  for (int c = 0; c < 0x20; ++c)
    t.needs[c] = true;
  t.needs[static_cast<unsigned char>('"')] = true;
  t.needs[static_cast<unsigned char>('\\')] = true;
  for (int c = 0x80; c < 0x100; ++c)  // checked to be well-formed UTF-8
    t.needs[c] = true;
  return t;
}();

// True when one of the 8 bytes of `w` needs escaping or checking (as in
// `escapes`): below 0x20, '"', '\\' or 0x80 and up. Exact for the word as a
// whole (no byte is missed); which byte it is, the caller finds out byte by
// byte. The "has less than" and "has zero byte" bit tricks (Sean Anderson's
// "Bit Twiddling Hacks").
inline bool word_needs_escape(uint64_t w) {
  constexpr uint64_t ones = 0x0101010101010101ull;
  constexpr uint64_t highs = 0x8080808080808080ull;
  auto has_zero = [](uint64_t x) { return (x - ones) & ~x & highs; };
  uint64_t control = (w - ones * 0x20) & ~w;
  return ((control | has_zero(w ^ (ones * '"')) | has_zero(w ^ (ones * '\\')) | w) & highs) != 0;
}

void write_string(std::string& out, std::string_view s) {
  static constexpr char hex[] = "0123456789abcdef";
  out.reserve(out.size() + s.size() + 2);
  out += '"';
  const char* p = s.data();
  const char* end = p + s.size();
  const char* run = p;  // the start of the characters that pass unchanged
  while (p != end) {
    // Eight bytes at a time while none needs a look: ids, words and
    // sentences are mostly plain ASCII, and a byte-by-byte table lookup was
    // a tenth of an HTTP answer's server CPU.
    if (end - p >= 8) {
      uint64_t w;
      std::memcpy(&w, p, sizeof w);
      if (!word_needs_escape(w)) {
        p += 8;
        continue;
      }
    }
    auto c = static_cast<unsigned char>(*p);
    if (!escapes.needs[c]) {
      ++p;
      continue;
    }
    if (c >= 0x80) {
      // Well-formed UTF-8 passes through unchanged. A string that holds other
      // bytes (a C++ executor may put any) gets U+FFFD for each bad byte, as
      // decoders do: JSON cannot carry them, and text a reader refuses would
      // turn one odd document into an unreadable response.
      auto n = utf8::sequence_length(s, static_cast<size_t>(p - s.data()));
      if (n > 0) {
        p += n;
        continue;
      }
      out.append(run, static_cast<size_t>(p - run));
      run = ++p;
      out += "\xef\xbf\xbd";
      continue;
    }
    out.append(run, static_cast<size_t>(p - run));
    run = ++p;
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default: {
        char u[6] = {'\\', 'u', '0', '0', hex[(c >> 4) & 0xf], hex[c & 0xf]};
        out.append(u, sizeof(u));
      }
    }
  }
  out.append(run, static_cast<size_t>(end - run));
  out += '"';
}

void write_double(std::string& out, double d) {
  if (!std::isfinite(d)) {
    out += "null";
    return;
  }
  // Shortest text that reads back as the same double.
  char buf[40];
  auto [end, ec] = std::to_chars(buf, buf + 32, d);
  std::string_view text(buf, static_cast<size_t>(end - buf));
  // "3" would read back as an integer: keep the kind with "3.0".
  if (text.find_first_of(".e") == std::string_view::npos) {
    *end++ = '.';
    *end++ = '0';
  }
  out.append(buf, static_cast<size_t>(end - buf));
}

void write_int(std::string& out, int64_t i) {
  char buf[24];
  auto end = std::to_chars(buf, buf + sizeof(buf), i).ptr;
  out.append(buf, static_cast<size_t>(end - buf));
}

void write_value(std::string& out, const Value& x) {
  switch (x.kind()) {
    case Value::Kind::null:
      out += "null";
      break;
    case Value::Kind::boolean:
      out += x.as_bool() ? "true" : "false";
      break;
    case Value::Kind::integer:
      write_int(out, x.as_int());
      break;
    case Value::Kind::number:
      write_double(out, x.as_double());
      break;
    case Value::Kind::string:
      write_string(out, x.as_string());
      break;
    case Value::Kind::array: {
      out += '[';
      bool first = true;
      for (const auto& y : x.as_array()) {
        if (!first)
          out += ',';
        first = false;
        write_value(out, y);
      }
      out += ']';
      break;
    }
    case Value::Kind::object: {
      out += '{';
      bool first = true;
      for (const auto& [k, y] : x.as_object()) {
        if (!first)
          out += ',';
        first = false;
        write_string(out, k);
        out += ':';
        write_value(out, y);
      }
      out += '}';
      break;
    }
  }
}

}  // namespace

caf::expected<Value> parse_json(std::string_view text) {
  boost::json::parse_options opts;
  opts.max_depth = 512;  // also bounds the recursion of later tree walks
  boost::json::basic_parser<value_builder> parser(opts);
  error_code ec;
  auto consumed = parser.write_some(false, text.data(), text.size(), ec);
  if (!ec && consumed < text.size())
    ec = boost::json::error::extra_data;
  if (ec)
    return make_error(errc::invalid_json, position(text, consumed) + ": " + ec.message());
  return std::move(parser.handler().result);
}

std::string to_json(const Value& value) {
  std::string out;
  write_value(out, value);
  return out;
}

namespace json_fast {

void append_string(std::string& out, std::string_view s) {
  write_string(out, s);
}

void append_double(std::string& out, double d) {
  write_double(out, d);
}

void append_int(std::string& out, int64_t i) {
  write_int(out, i);
}

void append_value(std::string& out, const Value& x) {
  write_value(out, x);
}

}  // namespace json_fast

boost::json::value to_boost(const Value& x) {
  switch (x.kind()) {
    case Value::Kind::null:
      return nullptr;
    case Value::Kind::boolean:
      return x.as_bool();
    case Value::Kind::integer:
      return x.as_int();
    case Value::Kind::number: {
      auto d = x.as_double();
      return std::isfinite(d) ? boost::json::value(d) : boost::json::value(nullptr);
    }
    case Value::Kind::string:
      return boost::json::string(x.as_string());
    case Value::Kind::array: {
      boost::json::array out;
      out.reserve(x.size());
      for (const auto& y : x.as_array())
        out.push_back(to_boost(y));
      return out;
    }
    case Value::Kind::object: {
      boost::json::object out;
      out.reserve(x.size());
      for (const auto& [k, y] : x.as_object())
        out.emplace(k, to_boost(y));
      return out;
    }
  }
  return nullptr;
}

Value from_boost(const boost::json::value& x) {
  switch (x.kind()) {
    case boost::json::kind::null:
      return {};
    case boost::json::kind::bool_:
      return x.get_bool();
    case boost::json::kind::int64:
      return x.get_int64();
    case boost::json::kind::uint64: {
      auto u = x.get_uint64();
      if (u <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
        return static_cast<int64_t>(u);
      return static_cast<double>(u);
    }
    case boost::json::kind::double_:
      return x.get_double();
    case boost::json::kind::string: {
      const auto& s = x.get_string();
      return std::string(s.data(), s.size());
    }
    case boost::json::kind::array: {
      Value::Array out;
      out.reserve(x.get_array().size());
      for (const auto& y : x.get_array())
        out.push_back(from_boost(y));
      return out;
    }
    case boost::json::kind::object: {
      Value::Object out;
      for (const auto& kv : x.get_object())
        out.insert_or_assign(std::string(kv.key()), from_boost(kv.value()));
      return out;
    }
  }
  return {};
}

}  // namespace caflow
