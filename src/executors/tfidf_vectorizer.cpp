// TfidfVectorizer: scikit-learn's TfidfVectorizer (default options) as an
// executor. `/fit` learns the vocabulary from the request's documents; every
// other endpoint (/index, /search, /update, ...) sets each document's
// embedding to the sparse tf-idf vector of its text. Replicas in one process
// share one immutable model (executors/tfidf/model_cache.hpp), which is saved
// in the executor workspace and loaded on the next start.
//
// uses_with:
//   corpus:       JSON Lines file whose documents' text is fitted at start when
//                 no saved model fits the options; relative to the flow
//                 config's directory when loaded from YAML. Default: none.
//   max_features, min_df, max_df, stop_words: as in scikit-learn.
//
// A /fit that would change a fitted model (another vocabulary or other idf
// weights) is refused unless its parameters say {"refit": true}: documents
// already indexed with the old model keep the old embeddings, which no query
// encoded with the new one would match (every score 0). See README.
#include <filesystem>
#include <string_view>
#include <utility>

#include "caflow/errors.hpp"
#include "caflow/executor.hpp"
#include "executors/tfidf/model_cache.hpp"
#include "executors/tfidf/tfidf_model.hpp"

namespace caflow {
namespace {

using tfidf::ModelPtr;

// The model file inside the executor workspace.
constexpr const char* model_file = "tfidf.model";

// True when both models give every text the same embedding: the same terms
// in the same order with the same idf weights (and the same options, which
// decide tokenising and normalising).
bool same_embeddings(const tfidf::TfidfModel& a, const tfidf::TfidfModel& b) {
  if (a.size() != b.size() || !(a.options() == b.options()))
    return false;
  for (uint32_t i = 0; i < a.size(); ++i)
    if (a.term(i) != b.term(i) || a.idf(i) != b.idf(i))
      return false;
  return true;
}

class TfidfVectorizer : public Executor {
 public:
  /// `corpus` and what TfidfOptions::from_params reads.
  static constexpr std::string_view uses_with_keys[] = {"corpus", "max_features", "min_df",
                                                        "max_df", "stop_words"};

  explicit TfidfVectorizer(ExecutorContext ctx)
    : Executor(std::move(ctx)),
      who_("TfidfVectorizer '" + context().name + "'"),
      corpus_(context().resolve_path(context().get("corpus", ""))) {
    auto options = tfidf::TfidfOptions::from_params(context().uses_with, who_);
    if (!options)
      throw_error(options.error());
    options_ = std::move(*options);
    auto workspace = context().executor_workspace();
    std::string key;
    if (!workspace.empty()) {
      model_path_ = (std::filesystem::path{workspace} / model_file).string();
      key = "file:"
            + std::filesystem::weakly_canonical(std::filesystem::absolute(model_path_)).string();
    } else {
      // No workspace: the model lives in memory, shared by name.
      key = "deployment:" + context().name;
    }
    slot_ = tfidf::ModelCache::instance().slot(key);
    slot_->init([this] { return load_or_fit(); });
    std::tie(model_, generation_) = slot_->current();
    on("/fit", &TfidfVectorizer::fit);
    on("*", &TfidfVectorizer::encode);
    // Endpoints that carry no text to vectorise pass through untouched.
    for (const char* endpoint : {"/delete", "/fetch", "/count", "/clear"})
      on(endpoint, &TfidfVectorizer::pass);
  }

 private:
  // Runs once per slot (under its mutex): the saved model when it was fitted
  // with these options, else a fit on the configured corpus, else nothing.
  ModelPtr load_or_fit() {
    if (!model_path_.empty()) {
      auto loaded = tfidf::TfidfModel::load(model_path_);
      if (loaded) {
        auto diff = (*loaded)->options().differences(options_);
        if (diff.empty())
          return *loaded;
        if (corpus_.empty())
          throw Error(errc::invalid_config,
                      who_ + ": the saved model " + model_path_ + " was fitted with other options ("
                        + diff + "); set uses_with.corpus to refit, or delete the file");
      } else if (!is(loaded.error(), errc::not_found)) {
        throw_error(loaded.error());
      }
    }
    if (corpus_.empty())
      return nullptr;
    auto model = tfidf::fit_jsonl(corpus_, options_);
    if (!model)
      throw Error(errc::invalid_argument,
                  who_ + ": fitting uses_with.corpus " + corpus_ + ": " + describe(model.error()));
    save(*model);
    return *model;
  }

  void save(const ModelPtr& model) {
    if (model_path_.empty())
      return;
    if (auto err = model->save(model_path_))
      throw_error(err);
  }

  Params fit(DocumentArray& docs, const Params& params) {
    tfidf::TfidfFitter fitter{options_};
    for (const auto& doc : std::as_const(docs))
      fitter.add(doc.text);
    auto model = std::move(fitter).finish();
    if (!model)
      throw Error(errc::invalid_argument, who_ + ": /fit: " + error_message(model.error()));
    if (slot_->generation() != generation_)
      std::tie(model_, generation_) = slot_->current();
    const bool refit = params.get_bool("refit", false);
    if (model_ && !refit && !same_embeddings(*model_, **model))
      throw Error(errc::invalid_argument,
                  who_ + ": /fit would replace the fitted model (" + std::to_string(model_->size())
                    + " terms from " + std::to_string(model_->documents()) + " documents) with "
                    + std::to_string((*model)->size()) + " terms from "
                    + std::to_string((*model)->documents())
                    + " documents: embeddings indexed with the old model would match no new "
                      "query. Send parameters {\"refit\": true} to replace it, then /clear "
                      "and re-index");
    save(*model);
    slot_->publish(*model);
    std::tie(model_, generation_) = slot_->current();
    return Params{{"vocabulary", static_cast<int64_t>(model_->size())},
                  {"documents", static_cast<int64_t>(model_->documents())}};
  }

  void encode(DocumentArray& docs, const Params&) {
    // Another replica's /fit shows up as a new generation: one atomic load.
    if (slot_->generation() != generation_)
      std::tie(model_, generation_) = slot_->current();
    if (!model_)
      throw Error(errc::invalid_argument,
                  who_ + " is not fitted: set uses_with.corpus or POST /fit first");
    for (auto& doc : docs)
      model_->transform(doc.text, doc.embedding);
  }

  void pass(DocumentArray&, const Params&) {}

  std::string who_;
  std::string corpus_;
  tfidf::TfidfOptions options_;
  std::string model_path_;  // "" without a workspace
  std::shared_ptr<tfidf::ModelSlot> slot_;
  ModelPtr model_;  // this replica's view of slot_'s model
  uint64_t generation_ = 0;
};

CAFLOW_REGISTER_EXECUTOR_AS(TfidfVectorizer, "TfidfVectorizer");

}  // namespace
}  // namespace caflow
