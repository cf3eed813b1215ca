// Request routing inside a head: to one replica (with retry), by polling mode.
#pragma once

#include <functional>
#include <memory>
#include <optional>

#include <caf/expected.hpp>

#include "actors/head.hpp"

namespace caflow::actors {

using head_pointer = head_actor::stateful_pointer<head_state>;

/// Sends `req` to replica `replica` of shard `shard`. When the replica turns
/// out to be gone, retries on another replica of the same shard while
/// `retries` lasts.
void send_to_replica(head_pointer self, uint32_t shard, size_t replica,
                     std::shared_ptr<Request> req, uint32_t retries, shard_reply done);

/// Settles every call in flight on `replica` (gone with its node) with
/// `err`: each is retried on another replica of its shard while its retries
/// last, else fails.
void fail_calls_on(head_pointer self, const caf::actor_addr& replica, const caf::error& err);

/// Removes and returns call `id`, or nullopt when it was already settled.
std::optional<pending_call> take_call(head_state& st, uint64_t id);

/// Frees the call's place on its replica (in flight count, drain).
void release(head_state& st, const pending_call& call);

/// Retries or fails a call whose replica answered `err`.
void fail_call(head_pointer self, pending_call call, const caf::error& err);

/// Sends `req` to the least busy replica of shard `shard`, other than
/// `exclude` (the replica a retry comes from).
void send_to_shard(head_pointer self, uint32_t shard, std::shared_ptr<Request> req,
                   uint32_t retries, shard_reply done,
                   std::optional<size_t> exclude = std::nullopt);

/// Routes `req` by the deployment's polling for its endpoint and delivers
/// the (reduced) answer to `rp`.
void route(head_pointer self, Request req, caf::typed_response_promise<Response> rp);

/// Microseconds since the epoch, for routes.
int64_t now_us();

}  // namespace caflow::actors
