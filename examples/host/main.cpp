// A host program that defines its own executor and runs documents through it.
#include <cctype>
#include <iostream>

#include <caflow/executor.hpp>
#include <caflow/json.hpp>

namespace {

// Upper-cases every document's text on /index and on any other endpoint.
class Upper : public caflow::Executor {
 public:
  explicit Upper(caflow::ExecutorContext ctx) : Executor(std::move(ctx)) { on("*", &Upper::upper); }

  void upper(caflow::DocumentArray& docs, const caflow::Params&) {
    for (auto& doc : docs)
      for (auto& c : doc.text)
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
};

CAFLOW_REGISTER_EXECUTOR(Upper);

}  // namespace

int main() {
  auto executor = caflow::ExecutorRegistry::instance().create({.name = "upper", .uses = "Upper"});
  if (!executor) {
    std::cerr << caflow::describe(executor.error()) << '\n';
    return 1;
  }
  caflow::DocumentArray docs;
  docs.emplace_back().text = "hello world";
  (*executor)->handle("/index", docs, caflow::Params::object());
  std::cout << caflow::to_json(docs) << '\n';
  return docs[0].text == "HELLO WORLD" ? 0 : 1;
}
