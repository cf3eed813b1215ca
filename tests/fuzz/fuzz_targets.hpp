/// The fuzz targets' entry points, shared by the libFuzzer binaries
/// (tests/fuzz/fuzz_*.cpp, built with CAFLOW_FUZZ) and by the regression test
/// (tests/unit/fuzz_regressions_test.cpp), which feeds every kept crash input
/// to the same function in the normal build.
///
/// Each function takes arbitrary bytes and throws caflow::fuzz::Failure when
/// an invariant breaks (a round trip that does not reproduce its input, an
/// accepted request whose response cannot be read back); memory errors and
/// UB are the sanitizers' business. Under libFuzzer an escaping exception
/// aborts, which is reported as a crash with the input saved.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace caflow::fuzz {

/// An invariant a fuzz target checks did not hold.
struct Failure : std::logic_error {
  using std::logic_error::logic_error;
};

/// parse_documents and parse_document on `data`; whatever parses must
/// serialise with to_json and parse back equal (and to the same text).
void documents(std::string_view data);

/// The gateway's request path without sockets. `data` is either a raw HTTP
/// request (parsed by Beast as the session does) or "METHOD TARGET\nBODY";
/// then router::route, decode_request of the body, encode_response of a
/// response carrying the decoded documents (read back with
/// decode_response), encode_error, and the /scale body's parsing.
void http_request(std::string_view data);

/// Flow::parse on `data` as YAML text, then validate() on what parsed.
void flow_yaml(std::string_view data);

}  // namespace caflow::fuzz

/// libFuzzer's entry point for a target function.
#define CAFLOW_FUZZ_ENTRY(fn)                                               \
  extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) { \
    fn(std::string_view{reinterpret_cast<const char*>(data), size});        \
    return 0;                                                               \
  }
