/// Failure detection of nodes by heartbeats with a miss count (private, pure).
///
/// The flow's cluster actor pings every connected node once per interval. A
/// node that left `misses` pings in a row unanswered counts as unresponsive
/// (hung: stopped with SIGSTOP, swapping, cut off without a reset) and is
/// treated like a lost node until it answers again. Detection takes between
/// `misses` and `misses + 1` intervals.
///
///   detail::NodeHealth h;
///   if (detail::heartbeat_tick(h, 3)) announce_unresponsive();  // per tick
///   if (detail::heartbeat_answered(h)) announce_back();         // per pong
#pragma once

#include <cstdint>

namespace caflow::detail {

/// What the heartbeat knows of one node.
struct NodeHealth {
  uint32_t unanswered = 0;  ///< pings sent since the last answer
  bool responsive = true;
};

/// A tick: another ping goes out. True when the node just turned
/// unresponsive (it left `misses` pings unanswered; `misses` of 0 counts as 1).
[[nodiscard]] inline bool heartbeat_tick(NodeHealth& h, uint32_t misses) {
  bool turned = h.responsive && h.unanswered >= (misses == 0 ? 1 : misses);
  if (turned)
    h.responsive = false;
  ++h.unanswered;
  return turned;
}

/// The node answered a ping. True when it was unresponsive until now.
[[nodiscard]] inline bool heartbeat_answered(NodeHealth& h) {
  bool back = !h.responsive;
  h.unanswered = 0;
  h.responsive = true;
  return back;
}

}  // namespace caflow::detail
