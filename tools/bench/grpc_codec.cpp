// gRPC codec: the CPU the gRPC gateway spends per request on converting
// jina.DataRequestProto <-> caflow's Request and Response, on one thread,
// without a server (what CallStream does around the flow).
//
//   caflow-bench grpc-codec [--request-size=100] [--requests=20000] [--rounds=5]
//
// Per request: the bytes as gRPC hands them over (a grpc::ByteBuffer) are
// decoded into a Request; a Response with the same documents and two routes
// (as the two no-op executor flow answers) is encoded into a ByteBuffer.
// The requests are those of bench/grpc_load (documents with an id and the
// text "hello world"). Each round times the gateway's codec (grpc/wire_reader,
// grpc/wire_writer)
// and, as the baseline, the generated classes (a message on an arena,
// parsed or built, then serialised), alternating. Reported: µs per request,
// medians of the rounds, and the ratios.
#include <algorithm>
#include <string>
#include <vector>

#include "bench/bench_util.hpp"
#include "caflow/errors.hpp"
#include "grpc/core.hpp"
#include "grpc/request_codec.hpp"
#include "grpc/wire_reader.hpp"
#include "grpc/wire_writer.hpp"
#include "http/jina_codec.hpp"

namespace caflow::bench {

namespace {

using namespace grpc_gateway;

grpc::ByteBuffer request_bytes(size_t docs) {
  jina::DataRequestProto req;
  auto* h = req.mutable_header();
  h->set_request_id("s0-0");
  h->set_exec_endpoint("/index");
  auto* all = req.mutable_data()->mutable_docs()->mutable_docs();
  for (size_t i = 0; i < docs; ++i) {
    auto* d = all->Add();
    d->set_id(new_document_id());
    d->set_text("hello world");
  }
  return serialize(req);
}

Request decode_generated(grpc::ByteBuffer& in) {
  MessageArena arena;
  auto& msg = *google::protobuf::Arena::CreateMessage<jina::DataRequestProto>(arena.get());
  if (!parse(in, msg))
    throw Error(errc::invalid_argument, "the request does not parse");
  auto req = decode_request(msg);
  if (!req)
    throw Error(req.error());
  return std::move(*req);
}

Request decode_wire(const grpc::ByteBuffer& in) {
  auto req = read_request(in);
  if (!req)
    throw Error(errc::invalid_argument, "the request is not read by grpc/wire_reader");
  return std::move(*req);
}

grpc::ByteBuffer encode_generated(Response&& resp, const Exchange& ex) {
  MessageArena arena;
  auto* out = google::protobuf::Arena::CreateMessage<jina::DataRequestProto>(arena.get());
  encode_response(std::move(resp), ex, out);
  return serialize(*out);
}

struct Times {
  double decode_us = 0;
  double encode_us = 0;
};

Times round(const grpc::ByteBuffer& wire, size_t requests, bool generated) {
  double decode_s = 0;
  double encode_s = 0;
  size_t bytes = 0;
  for (size_t i = 0; i < requests; ++i) {
    grpc::ByteBuffer in{wire};  // shares the slices, as gRPC's read does
    auto t0 = clock::now();
    auto req = generated ? decode_generated(in) : decode_wire(in);
    auto ex = exchange_of(req, http::now_us());
    decode_s += seconds_since(t0);
    Response resp;
    resp.id = req.id;
    resp.docs = std::move(req.docs);
    resp.routes = {{"first", 1, 2, ""}, {"second", 2, 3, ""}};
    req = Request{};
    auto t1 = clock::now();
    {
      auto out = generated ? encode_generated(std::move(resp), ex) : write_response(resp, ex);
      resp = Response{};  // the gateway's answer goes once it is written
      bytes += out.Length();
    }
    encode_s += seconds_since(t1);
  }
  if (bytes == 0)
    throw Error(errc::invalid_argument, "no answer bytes");
  auto n = static_cast<double>(requests);
  return {decode_s * 1e6 / n, encode_s * 1e6 / n};
}

}  // namespace

int run_grpc_codec_bench(int argc, char** argv) {
  auto size = static_cast<size_t>(std::max<long long>(1, arg(argc, argv, "request-size", 100)));
  auto requests = static_cast<size_t>(std::max<long long>(1, arg(argc, argv, "requests", 20000)));
  auto rounds = std::max<long long>(1, arg(argc, argv, "rounds", 5));
  auto wire = request_bytes(size);
  round(wire, std::min<size_t>(requests, 1000), true);  // warm up
  round(wire, std::min<size_t>(requests, 1000), false);
  std::vector<double> dec, enc, base_dec, base_enc;
  for (long long k = 0; k < rounds; ++k) {
    auto base = round(wire, requests, true);
    auto r = round(wire, requests, false);
    base_dec.push_back(base.decode_us);
    base_enc.push_back(base.encode_us);
    dec.push_back(r.decode_us);
    enc.push_back(r.encode_us);
    emit({{"bench", "grpc-codec"},
          {"part", "round"},
          {"decode_us_per_request", r.decode_us},
          {"encode_us_per_request", r.encode_us},
          {"generated_decode_us_per_request", base.decode_us},
          {"generated_encode_us_per_request", base.encode_us}});
  }
  auto d = percentile(dec, 50);
  auto e = percentile(enc, 50);
  auto bd = percentile(base_dec, 50);
  auto be = percentile(base_enc, 50);
  emit({{"bench", "grpc-codec"},
        {"request_size", static_cast<int64_t>(size)},
        {"requests", static_cast<int64_t>(requests)},
        {"rounds", static_cast<int64_t>(rounds)},
        {"request_bytes", static_cast<int64_t>(wire.Length())},
        {"decode_us_per_request", d},
        {"encode_us_per_request", e},
        {"generated_decode_us_per_request", bd},
        {"generated_encode_us_per_request", be},
        {"decode_ratio", d / bd},
        {"encode_ratio", e / be},
        {"ratio", (d + e) / (bd + be)},
        {"baseline", "the generated classes: a message on an arena, parsed or built, serialised"},
        {"load_average", load_average()}});
  return 0;
}

}  // namespace caflow::bench
