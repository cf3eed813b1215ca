// The gRPC benchmarks' load generator (the client process of caflow-bench
// grpc and http --server-cpu): jina.JinaRPC/Call on several channels at
// once, as several Jina clients with prefetch would drive one gateway.
//
// Each stream has a channel (a TCP connection) and a thread of its own and
// keeps `window` requests in flight: it writes the next one whenever an
// answer arrives. As wrk does for HTTP, the requests are built and
// serialised once (a few distinct ones per stream, sent in turn), so that
// the client spends its CPU on the wire, not on building documents; every
// answer is parsed and checked (its request id, a SUCCESS status and all
// of its documents), so nothing lost goes unnoticed.
#pragma once

#include <cstddef>
#include <string>

namespace caflow::bench {

struct GrpcLoad {
  std::string address;        // HOST:PORT of the gRPC gateway
  size_t requests = 0;        // in all, spread over the streams
  size_t request_size = 100;  // documents per request
  size_t streams = 4;         // channels, each with its own stream and thread
  size_t window = 2;          // requests in flight per stream
};

struct GrpcLoadResult {
  size_t requests = 0;  // answered
  size_t docs = 0;      // documents in the answers
  double seconds = 0;
};

/// Runs the load; throws caflow::Error when a stream fails or an answer is
/// wrong (an error status, a missing document, an unknown request id).
GrpcLoadResult run_grpc_load(const GrpcLoad& load);

}  // namespace caflow::bench
