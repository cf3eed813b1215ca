#include "storage/layout.hpp"

#include "caflow/errors.hpp"
#include "caflow/json.hpp"
#include "caflow/value.hpp"

namespace caflow {

namespace {

constexpr int64_t layout_format = 1;

caf::error malformed(const std::string& what) {
  return make_error(errc::storage_error, "malformed layout record: " + what);
}

}  // namespace

std::string ShardLayout::encode() const {
  Value v = Value::object();
  v["format"] = layout_format;
  v["flow"] = flow;
  v["executor"] = executor;
  v["uses"] = uses;
  v["shard"] = shard;
  v["shards"] = shards;
  v["partition"] = partition;
  Value d = Value::object();
  for (const auto& [key, value] : data)
    d[key] = value;
  v["data"] = std::move(d);
  return to_json(v);
}

caf::expected<ShardLayout> ShardLayout::decode(std::string_view text) {
  auto v = parse_json(text);
  if (!v)
    return malformed(error_message(v.error()));
  if (!v->is_object())
    return malformed("not an object");
  try {
    if (auto format = v->get_int("format", 0); format != layout_format)
      return malformed("format " + std::to_string(format) + " (this caflow reads format "
                       + std::to_string(layout_format) + ")");
    ShardLayout out;
    out.flow = v->get_string("flow", "");
    out.executor = v->get_string("executor", "");
    out.uses = v->get_string("uses", "");
    auto shard = v->get_int("shard", -1);
    auto shards = v->get_int("shards", -1);
    if (shard < 0 || shards < 1 || shard >= shards || shards > UINT32_MAX)
      return malformed("shard " + std::to_string(shard) + " of " + std::to_string(shards));
    out.shard = static_cast<uint32_t>(shard);
    out.shards = static_cast<uint32_t>(shards);
    out.partition = v->get_string("partition", "");
    if (const auto* d = v->find("data"); d != nullptr && d->is_object())
      for (const auto& [key, value] : d->as_object())
        out.data[key] = value.is_string() ? value.as_string() : value.dump();
    return out;
  } catch (const Error& e) {
    return malformed(e.what());
  }
}

std::vector<LayoutDifference> compare_layouts(const ShardLayout& stored,
                                              const ShardLayout& wanted) {
  std::vector<LayoutDifference> out;
  // An empty stored value is unknown (a record rewritten by `caflow reshard`
  // from data that had none), not a difference.
  auto field = [&out](const char* key, const std::string& s, const std::string& w) {
    if (s != w && !s.empty())
      out.push_back({key, s, w});
  };
  field("flow", stored.flow, wanted.flow);
  field("executor", stored.executor, wanted.executor);
  field("uses", stored.uses, wanted.uses);
  field("shard", std::to_string(stored.shard), std::to_string(wanted.shard));
  field("shards", std::to_string(stored.shards), std::to_string(wanted.shards));
  field("partition", stored.partition, wanted.partition);
  for (const auto& [key, value] : wanted.data) {
    if (value.empty())
      continue;
    auto s = stored.data.find(key);
    auto old = s == stored.data.end() ? std::string{} : s->second;
    if (old != value && !old.empty())
      out.push_back({"data." + key, old, value});
  }
  return out;
}

LayoutVerdict judge_layout(const ShardLayout& stored, const ShardLayout& wanted,
                           const std::set<std::string>& rebuildable, const std::string& name,
                           const std::string& store_path) {
  LayoutVerdict out;
  std::string what;
  std::string how;
  for (auto& d : compare_layouts(stored, wanted)) {
    if (d.key.rfind("data.", 0) == 0 && rebuildable.count(d.key.substr(5)) > 0) {
      out.to_apply.push_back(std::move(d));
      continue;
    }
    if (!what.empty())
      what += "; ";
    what += d.key + ": stored " + (d.stored.empty() ? "(none)" : d.stored) + ", the flow asks for "
            + (d.wanted.empty() ? "(none)" : d.wanted);
    if (d.key == "shards" || d.key == "partition") {
      how = " Its documents are placed by the hash of their id over " + std::to_string(stored.shards)
            + " shard(s); served with " + std::to_string(wanted.shards)
            + ", most ids would be looked for on the wrong shard. Stop the flow and run `caflow "
              "reshard "
            + store_path + " --shards " + std::to_string(wanted.shards)
            + "` to move them, or set `shards: " + std::to_string(stored.shards)
            + "` again.";
    } else if (d.key == "flow") {
      how
        = " This data belongs to another flow. Start that flow, or move this directory away"
          " to start this one empty.";
    } else if (how.empty()) {
      how
        = " Use the configuration this data was written with, or move this directory away"
          " to start empty.";
    }
  }
  if (!what.empty())
    out.refusal = name + ": " + store_path + " was written under another layout (" + what + ")."
                  + how;
  return out;
}

}  // namespace caflow
