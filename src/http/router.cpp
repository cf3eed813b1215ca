#include "http/router.hpp"

#include <array>

namespace caflow::http {

namespace {

struct Entry {
  std::string_view path;
  Action action;
  std::string_view endpoint;  // for Action::post
  std::string_view allow;     // accepted methods, comma separated
};

// Jina 3 maps /update to PUT and /delete to DELETE; POST is accepted too
// because plain clients (and caflow's) post everything.
constexpr std::array<Entry, 9> table{{
  {"/post", Action::post, "", "POST"},
  {"/index", Action::post, "/index", "POST"},
  {"/search", Action::post, "/search", "POST"},
  {"/update", Action::post, "/update", "PUT, POST"},
  {"/delete", Action::post, "/delete", "DELETE, POST"},
  {"/status", Action::status, "", "GET"},
  {"/dry_run", Action::dry_run, "", "GET"},
  {"/metrics", Action::metrics, "", "GET"},
  {"/scale", Action::scale, "", "POST"},
}};

bool allows(std::string_view allow, std::string_view method) {
  while (!allow.empty()) {
    auto comma = allow.find(',');
    auto item = allow.substr(0, comma);
    if (item == method)
      return true;
    if (comma == std::string_view::npos)
      break;
    allow.remove_prefix(comma + 1);
    while (!allow.empty() && allow.front() == ' ')
      allow.remove_prefix(1);
  }
  return false;
}

}  // namespace

RouteMatch route(std::string_view method, std::string_view target) {
  RouteMatch out;
  auto path = target.substr(0, target.find_first_of("?#"));
  // A trailing slash names the same route ("/index/" is "/index").
  if (path.size() > 1 && path.back() == '/')
    path.remove_suffix(1);
  out.path = std::string{path};
  for (const auto& e : table) {
    if (e.path != path)
      continue;
    if (!allows(e.allow, method)) {
      out.action = Action::method_not_allowed;
      out.allow = std::string{e.allow};
      return out;
    }
    out.action = e.action;
    out.endpoint = std::string{e.endpoint};
    return out;
  }
  return out;
}

}  // namespace caflow::http
