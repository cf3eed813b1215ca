// What every "post" engine does the same way, whatever carries its
// requests: RunningFlow::post (CAF messages, runtime/post.cpp), caflow::Client
// over HTTP (http/client.cpp) and over gRPC (grpc/grpc_client.cpp).
//
// They cut the documents into requests of `request_size` the same way (one
// empty request when there are none, as Jina does for /count), and put the
// answers back together the same way (documents in request order,
// parameters reduced, shard failures summed). How they keep `prefetch`
// requests in flight differs with the transport, and is written once per
// transport: callbacks on CAF's workers (post.cpp), one blocking
// connection per request in flight (HTTP/1.1 cannot interleave answers),
// one stream with a writer thread (gRPC). Pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "caflow/document.hpp"
#include "caflow/flow.hpp"

namespace caflow::detail {

/// Parameter keys carrying partial shard failures in an answer on the wire
/// (HTTP's JSON and gRPC's Struct), where the header can take no extra key.
constexpr const char* failed_shards_key = "__failed_shards__";
constexpr const char* failures_key = "__failures__";

/// The [begin, end) document ranges of the requests of a post of `n_docs`
/// documents: `request_size` each (0 counts as 1), the last one shorter;
/// one empty range when `n_docs` is 0.
std::vector<std::pair<size_t, size_t>> request_slices(size_t n_docs, size_t request_size);

/// One request's answer as a post engine received it.
struct PostAnswer {
  DocumentArray docs{};
  Params parameters = Params::object();  ///< without the failure keys
  uint32_t failed_shards = 0;
  std::vector<std::string> failures{};
};

/// Joins the answers of one post, in request order (moved from).
PostResult join_answers(std::vector<PostAnswer>& answers);

/// Writes partial failures into `params` (nothing when `failed_shards` is 0).
void put_shard_failures(Params& params, uint32_t failed_shards,
                        const std::vector<std::string>& failures);

/// Moves the failure keys out of `params` into `out` (a wire answer read back).
void take_shard_failures(Params& params, PostAnswer& out);

}  // namespace caflow::detail
