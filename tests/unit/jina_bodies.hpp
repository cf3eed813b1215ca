// A request body exactly as Jina 3.0's HTTP client writes it (DESIGN.md
// section 8: snake_case keys, floats for integers, a null for every field
// the document leaves unset), shared by the tests of the JSON reader and of
// the gateway's codec, which must both accept it unchanged.
#pragma once

namespace caflow::testing {

/// One document {"id": "a", "text": "hello", "embedding": [1.0, 2.0]} to
/// /search with parameters {"top_k": 3.0} and request id "b484".
inline constexpr const char* jina_client_search_body =
  R"({"header": {"request_id": "b484", "exec_endpoint": "/search"},
    "parameters": {"top_k": 3.0},
    "data": [{"id": "a", "parent_id": null, "granularity": null, "adjacency": null,
              "blob": null, "tensor": null, "mime_type": "text/plain", "text": "hello",
              "weight": null, "uri": null, "tags": null, "offset": null, "location": null,
              "embedding": [1.0, 2.0], "modality": null, "evaluations": null,
              "scores": null, "chunks": null, "matches": null}],
    "exec_endpoint": "/search"})";

}  // namespace caflow::testing
