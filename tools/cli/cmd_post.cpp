// caflow post ENDPOINT — send documents to a running flow's HTTP gateway.
#include <unistd.h>

#include <cstdint>
#include <iostream>

#include "caflow/client.hpp"
#include "caflow/errors.hpp"
#include "caflow/json.hpp"
#include "caflow/jsonl.hpp"
#include "cli/commands.hpp"
#include "cli/input.hpp"
#include "cli/match_table.hpp"
#include "cli/options.hpp"
#include "cli/progress.hpp"

namespace caflow::cli {

namespace {

constexpr const char* post_usage
  = "usage: caflow post ENDPOINT [--host H] [--port P] [--protocol http|grpc]\n"
    "                   [--input DOCS.jsonl | --text-file FILE | --text TEXT]\n"
    "\n"
    "Sends documents to ENDPOINT (e.g. /index, /search) of a running flow, in\n"
    "requests of --request-size documents with --prefetch requests in flight.\n"
    "Without an input option, reads JSON Lines documents from standard input.\n"
    "Writes the resulting documents as JSON Lines to --output or standard\n"
    "output; on a terminal, prints search results as a table and other\n"
    "results as a summary.";

caf::expected<Params> parse_parameters(const std::string& json, int64_t top_k) {
  Params params = Params::object();
  if (!json.empty()) {
    auto parsed = parse_json(json);
    if (!parsed)
      return make_error(errc::invalid_argument, "--parameters: " + error_message(parsed.error()));
    if (!parsed->is_object())
      return make_error(errc::invalid_argument, "--parameters: expected a JSON object");
    params = std::move(*parsed);
  }
  if (top_k > 0)
    params["top_k"] = top_k;
  return params;
}

// "sent 6046 documents in 61 requests: 61 acknowledged (6046 documents),
// 0 failed, 0 not sent; 12 retries after 503".
std::string summary(const PostReport& r) {
  auto sent = r.requests_acknowledged + r.requests_failed;
  return "caflow post: " + std::to_string(r.documents) + " documents in "
         + std::to_string(r.requests) + " requests: " + std::to_string(r.requests_acknowledged)
         + " acknowledged (" + std::to_string(r.documents_acknowledged) + " documents), "
         + std::to_string(r.requests_failed) + " failed, "
         + std::to_string(r.requests > sent ? r.requests - sent : 0) + " not sent; "
         + std::to_string(r.retries) + " retries after 503";
}

int write_output(const PostResult& result, const std::string& endpoint, const std::string& output) {
  bool terminal = output.empty() && isatty(STDOUT_FILENO) != 0;
  if (terminal) {
    if (endpoint == "/search") {
      print_match_table(std::cout, result.docs);
    } else {
      std::cout << result.docs.size() << " documents returned";
      if (result.parameters.is_object() && result.parameters.size() > 0)
        std::cout << "; parameters: " << to_json(result.parameters);
      std::cout << '\n';
    }
    return 0;
  }
  auto writer = output.empty() ? caf::expected<JsonlWriter>{JsonlWriter{std::cout}}
                               : JsonlWriter::create(output);
  if (!writer) {
    std::cerr << "caflow post: " << error_message(writer.error()) << '\n';
    return 1;
  }
  if (auto err = writer->write(result.docs); err || (err = writer->flush())) {
    std::cerr << "caflow post: " << error_message(err) << '\n';
    return 1;
  }
  return 0;
}

}  // namespace

int run_post(int argc, char** argv) {
  std::string endpoint;
  std::string host;
  int64_t port = 0;
  InputOptions input;
  int64_t request_size = 0;
  int64_t prefetch = 0;
  int64_t retries = 0;
  std::string parameters;
  int64_t top_k = 0;
  std::string target;
  std::string output;
  std::string protocol;
  po::options_description options{"options"};
  options.add_options()("endpoint", po::value(&endpoint)->required(), "the endpoint, e.g. /index")(
    "host", po::value(&host)->default_value("127.0.0.1"), "the flow's gateway host")(
    "port,p", po::value(&port)->default_value(8080), "the flow's gateway port")(
    "protocol", po::value(&protocol)->default_value("http"),
    "the gateway's protocol: http or grpc (Jina's gateway protocol)")(
    "input,i", po::value(&input.jsonl_file), "documents as JSON Lines ('-': stdin)")(
    "text-file", po::value(&input.text_file), "a document per line of FILE ('-': stdin)")(
    "text,t", po::value(&input.text), "one document with this text")(
    "request-size", po::value(&request_size)->default_value(100), "documents per request")(
    "prefetch", po::value(&prefetch)->default_value(16), "requests in flight")(
    "retries", po::value(&retries)->default_value(8),
    "times a request answered 503 is sent again (honouring Retry-After)")(
    "parameters", po::value(&parameters), "request parameters as a JSON object")(
    "top-k", po::value(&top_k)->default_value(0), "matches per query (sets parameters.top_k)")(
    "target-executor", po::value(&target), "only this executor runs the request")(
    "output,o", po::value(&output), "write the result documents as JSON Lines here");
  po::positional_options_description positional;
  positional.add("endpoint", 1);
  po::variables_map vm;
  if (int rc = parse_options(argc, argv, post_usage, options, positional, vm); rc >= 0)
    return rc;
  if (endpoint.empty() || endpoint.front() != '/')
    endpoint.insert(endpoint.begin(), '/');
  if (!in_range("post", "--port", port, 1, 65535)
      || !in_range("post", "--request-size", request_size, 1, 1000000)
      || !in_range("post", "--prefetch", prefetch, 1, 1024)
      || !in_range("post", "--retries", retries, 0, 1000)
      || !in_range("post", "--top-k", top_k, 0, INT32_MAX))
    return 2;

  if (protocol != "http" && protocol != "grpc") {
    std::cerr << "caflow post: --protocol " << protocol << ": expected http or grpc\n";
    return 2;
  }

  auto params = parse_parameters(parameters, top_k);
  if (!params) {
    std::cerr << "caflow post: " << error_message(params.error()) << '\n';
    return 2;
  }
  auto docs = read_input(input);
  if (!docs) {
    std::cerr << "caflow post: " << error_message(docs.error()) << '\n';
    return 1;
  }

  ProgressBar bar{endpoint, isatty(STDERR_FILENO) != 0};
  size_t requests = 0;
  PostOptions post_options;
  post_options.request_size = static_cast<size_t>(request_size);
  post_options.prefetch = static_cast<size_t>(prefetch);
  post_options.parameters = std::move(*params);
  post_options.target_executor = target;
  post_options.on_progress = [&](size_t done, size_t total) {
    requests = done;
    bar.update(done, total);
  };
  ClientOptions client_options;
  client_options.retries = static_cast<unsigned>(retries);
  client_options.protocol = protocol;
  Client client{host, static_cast<uint16_t>(port), client_options};
  PostReport report;
  auto result = client.post(endpoint, std::move(*docs), std::move(post_options), report);
  if (!result) {
    if (requests > 0)
      bar.finish(requests);
    std::cerr << "caflow post: " << error_message(result.error()) << '\n';
    std::cerr << summary(report) << std::endl;
    return 1;
  }
  bar.finish(requests);
  for (const auto& failure : result->failures)
    std::cerr << "caflow post: warning: " << failure << '\n';
  // After the documents, so that a reader of both streams sees it last.
  int rc = write_output(*result, endpoint, output);
  if (report.requests > 1 || report.retries > 0)
    std::cerr << summary(report) << std::endl;
  return rc;
}

}  // namespace caflow::cli
