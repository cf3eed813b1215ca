#include "grpc/request_codec.hpp"

#include <utility>

#include "caflow/errors.hpp"
#include "grpc/ndarray.hpp"
#include "grpc/struct_value.hpp"
#include "http/jina_status.hpp"
#include "runtime/post_batches.hpp"

namespace caflow::grpc_gateway {

namespace {

caf::error refuse(const std::string& where, const char* field, const char* why) {
  return make_error(errc::invalid_argument,
                    where + "." + field + ": " + why + " (caflow documents have no such field)");
}

void set_time(google::protobuf::Timestamp* ts, int64_t us) {
  auto secs = us / 1000000;
  auto frac = us % 1000000;
  if (frac < 0) {
    frac += 1000000;
    --secs;
  }
  ts->set_seconds(secs);
  ts->set_nanos(static_cast<int32_t>(frac * 1000));
}

void add_route(jina::DataRequestProto* out, const std::string& executor, int64_t start, int64_t end,
               const std::string& error) {
  auto* r = out->add_routes();
  r->set_executor(executor);
  set_time(r->mutable_start_time(), start);
  set_time(r->mutable_end_time(), end);
  if (!error.empty()) {
    r->mutable_status()->set_code(jina::StatusProto::ERROR);
    r->mutable_status()->set_description(error);
  }
}

void write_header(const Exchange& ex, jina::HeaderProto* h) {
  h->set_request_id(ex.request_id);
  h->set_exec_endpoint(ex.endpoint);
  if (!ex.target_executor.empty())
    h->set_target_executor(ex.target_executor);
}

}  // namespace

namespace {

// Where a document is, for error messages ("data.docs[3].matches[0]"):
// spelled out only when there is an error to report.
struct DocPath {
  const DocPath* parent = nullptr;
  std::string_view name;  // "data.docs", "matches", "chunks", or a whole path
  int index = -1;         // -1: `name` is the whole path

  [[nodiscard]] std::string str() const {
    std::string out = parent ? parent->str() + "." : std::string{};
    out += name;
    if (index >= 0)
      out += "[" + std::to_string(index) + "]";
    return out;
  }
};

// Reads `pb` into `d` (whose id is empty), moving strings out of `pb`.
caf::error read_document(docarray::DocumentProto& pb, const DocPath& at, Document& d) {
  if (!pb.id().empty())
    d.id = std::move(*pb.mutable_id());
  else
    d.id = new_document_id();
  switch (pb.content_case()) {
    case docarray::DocumentProto::kBlob:
      d.blob = std::move(*pb.mutable_blob());
      break;
    case docarray::DocumentProto::kText:
      d.text = std::move(*pb.mutable_text());
      break;
    case docarray::DocumentProto::kTensor:
      // Read below: it stands in for a missing embedding.
      break;
    case docarray::DocumentProto::CONTENT_NOT_SET:
      break;
  }
  if (pb.weight() != 0)
    return refuse(at.str(), "weight", "weights are not supported");
  if (!pb.modality().empty())
    return refuse(at.str(), "modality", "modalities are not supported");
  if (pb.offset() != 0)
    return refuse(at.str(), "offset", "offsets are not supported");
  if (pb.location_size() > 0)
    return refuse(at.str(), "location", "locations are not supported");
  if (pb.evaluations_size() > 0)
    return refuse(at.str(), "evaluations", "evaluations are not supported");
  if (!pb.parent_id().empty())
    d.parent_id = std::move(*pb.mutable_parent_id());
  if (!pb.uri().empty())
    d.uri = std::move(*pb.mutable_uri());
  if (!pb.mime_type().empty())
    d.mime_type = std::move(*pb.mutable_mime_type());
  if (pb.has_tags())
    d.tags = from_struct(pb.tags());
  if (pb.has_embedding()) {
    auto e = read_ndarray(pb.embedding(), at.str() + ".embedding");
    if (!e)
      return std::move(e.error());
    d.embedding = std::move(*e);
  }
  if (pb.content_case() == docarray::DocumentProto::kTensor) {
    // DocArray calls a vector that is not an embedding `tensor` (an image's
    // pixels, an audio clip): as over HTTP it becomes the document's vector
    // when there is no embedding. A document has one vector in caflow, so
    // both at once are refused rather than one dropped.
    if (pb.has_embedding())
      return refuse(at.str(), "tensor",
                    "a document carries one vector in caflow: send an embedding or a tensor, "
                    "not both");
    auto t = read_ndarray(pb.tensor(), at.str() + ".tensor");
    if (!t)
      return std::move(t.error());
    d.embedding = std::move(*t);
  }
  for (const auto& [name, score] : pb.scores())
    d.scores[name] = score.value();
  d.matches.resize(static_cast<size_t>(pb.matches_size()));
  for (int i = 0; i < pb.matches_size(); ++i)
    if (auto err = read_document(*pb.mutable_matches(i), DocPath{&at, "matches", i},
                                 d.matches[static_cast<size_t>(i)]))
      return err;
  d.chunks.resize(static_cast<size_t>(pb.chunks_size()));
  for (int i = 0; i < pb.chunks_size(); ++i)
    if (auto err = read_document(*pb.mutable_chunks(i), DocPath{&at, "chunks", i},
                                 d.chunks[static_cast<size_t>(i)]))
      return err;
  return {};
}

}  // namespace

caf::expected<Document> from_proto(docarray::DocumentProto& pb, const std::string& where) {
  // Documents made here start without an id: read_document sets it (a fresh
  // id is made only for a document that came without one).
  detail::DeserializingDocuments no_fresh_ids;
  Document d;
  if (auto err = read_document(pb, DocPath{nullptr, where}, d))
    return err;
  return d;
}

void to_proto(Document&& d, docarray::DocumentProto* out, uint32_t granularity,
              uint32_t adjacency) {
  out->set_id(std::move(d.id));
  if (!d.blob.empty())
    out->set_blob(std::move(d.blob));
  else if (!d.text.empty())
    out->set_text(std::move(d.text));
  if (granularity != 0)
    out->set_granularity(granularity);
  if (adjacency != 0)
    out->set_adjacency(adjacency);
  if (!d.parent_id.empty())
    out->set_parent_id(std::move(d.parent_id));
  if (!d.uri.empty())
    out->set_uri(std::move(d.uri));
  if (!d.mime_type.empty())
    out->set_mime_type(std::move(d.mime_type));
  if (d.tags.is_object() && d.tags.size() > 0)
    to_struct(d.tags, out->mutable_tags());
  if (!d.embedding.empty())
    write_ndarray(d.embedding, out->mutable_embedding());
  for (const auto& [name, value] : d.scores)
    (*out->mutable_scores())[name].set_value(static_cast<float>(value));
  for (auto& m : d.matches)
    to_proto(std::move(m), out->add_matches(), granularity, adjacency + 1);
  for (auto& c : d.chunks)
    to_proto(std::move(c), out->add_chunks(), granularity + 1, adjacency);
}

caf::expected<Request> decode_request(jina::DataRequestProto& msg) {
  Request req;
  auto* header = msg.mutable_header();
  req.id = header->request_id().empty() ? new_document_id()
                                        : std::move(*header->mutable_request_id());
  req.endpoint = header->has_exec_endpoint() && !header->exec_endpoint().empty()
                   ? std::move(*header->mutable_exec_endpoint())
                   : std::string{"/"};
  if (header->has_target_executor())
    req.target_executor = std::move(*header->mutable_target_executor());
  if (msg.has_parameters())
    req.parameters = from_struct(msg.parameters());
  if (msg.has_data()) {
    auto* data = msg.mutable_data();
    if (data->documents_case() == jina::DataRequestProto::DataContentProto::kDocsBytes)
      return make_error(errc::invalid_argument,
                        "data.docs_bytes: docarray's serialised bytes are not supported; send the "
                        "documents in data.docs");
    if (data->has_docs()) {
      auto* docs = data->mutable_docs()->mutable_docs();
      detail::DeserializingDocuments no_fresh_ids;  // see from_proto
      std::vector<Document> out(static_cast<size_t>(docs->size()));
      for (int i = 0; i < docs->size(); ++i)
        if (auto err = read_document(*docs->Mutable(i), DocPath{nullptr, "data.docs", i},
                                     out[static_cast<size_t>(i)]))
          return err;
      req.docs = DocumentArray{std::move(out)};
    }
  }
  return req;
}

Exchange exchange_of(const Request& req, int64_t start_us) {
  return Exchange{req.id, req.endpoint, req.target_executor, req.parameters, start_us, start_us};
}

Params response_parameters(const Response& resp, const Exchange& ex) {
  Params params = ex.parameters.is_object() ? ex.parameters : Params::object();
  if (resp.parameters.is_object())
    params.merge(resp.parameters);
  detail::put_shard_failures(params, resp.shards_failed, resp.failures);
  return params;
}

void encode_response(Response&& resp, const Exchange& ex, jina::DataRequestProto* out) {
  write_header(ex, out->mutable_header());
  to_struct(response_parameters(resp, ex), out->mutable_parameters());
  add_route(out, "gateway", ex.start_us, ex.end_us, "");
  for (const auto& r : resp.routes)
    add_route(out, r.executor, r.start_us, r.end_us, r.status);
  auto* docs = out->mutable_data()->mutable_docs()->mutable_docs();
  auto all = std::move(resp.docs).docs();
  docs->Reserve(static_cast<int>(all.size()));
  for (auto& d : all)
    to_proto(std::move(d), docs->Add());
}

void encode_error(const caf::error& err, const Exchange& ex, jina::DataRequestProto* out) {
  write_header(ex, out->mutable_header());
  auto st = http::jina_status(err);
  auto* status = out->mutable_header()->mutable_status();
  status->set_code(jina::StatusProto::ERROR);
  status->set_description(st.description);
  auto* exc = status->mutable_exception();
  exc->set_name(st.name);
  for (auto& a : st.args)
    exc->add_args(a);
  exc->set_executor(st.executor);
  to_struct(ex.parameters, out->mutable_parameters());
  add_route(out, "gateway", ex.start_us, ex.end_us, st.description);
  out->mutable_data()->mutable_docs();
}

}  // namespace caflow::grpc_gateway
