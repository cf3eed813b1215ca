"""scikit-learn's TfidfVectorizer on a JSON Lines corpus: the baseline of
`caflow-bench tfidf` and the generator of tests/data/tfidf/expected_*.json.

    env $(tools/sklearn-env.sh) /usr/bin/python3 tools/bench/sklearn_tfidf.py CORPUS
        prints {"fit_s", "transform_s", "fit_cpu_s", "transform_cpu_s", "vocab",
        "nnz", "documents", "sklearn"} (wall and CPU seconds)
        (--vocab-out FILE also writes the vocabulary, one term a line)
    ... sklearn_tfidf.py CORPUS --dump [--queries FILE]
        prints the options, vocabulary (in index order), idf and the vectors of
        the corpus (and of the queries' texts) for test fixtures

Options (scikit-learn's names): --max-features N, --min-df X, --max-df X,
--stop-words english. For min_df/max_df an integer is a document count and a
number with a '.' a proportion, as in scikit-learn. Only each document's
`text` is used.
"""
import argparse
import json
import sys
import time


def df_value(s):
    return float(s) if "." in s else int(s)


def read_texts(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line).get("text", "") for line in f if line.strip()]


def rows(matrix):
    out = []
    for i in range(matrix.shape[0]):
        row = matrix.getrow(i).tocoo()
        pairs = sorted(zip(row.col.tolist(), row.data.tolist()))
        out.append({"indices": [int(c) for c, _ in pairs], "values": [v for _, v in pairs]})
    return out


def main():
    p = argparse.ArgumentParser()
    p.add_argument("corpus")
    p.add_argument("--dump", action="store_true")
    p.add_argument("--queries")
    p.add_argument("--vocab-out", help="also write the vocabulary, one term a line")
    p.add_argument("--max-features", type=int)
    p.add_argument("--min-df", type=df_value, default=1)
    p.add_argument("--max-df", type=df_value, default=1.0)
    p.add_argument("--stop-words", choices=["english"])
    a = p.parse_args()
    import sklearn
    from sklearn.feature_extraction.text import TfidfVectorizer

    options = {"max_features": a.max_features, "min_df": a.min_df, "max_df": a.max_df,
               "stop_words": a.stop_words}
    texts = read_texts(a.corpus)
    vec = TfidfVectorizer(**options)
    start, cpu = time.perf_counter(), time.process_time()
    vec.fit(texts)
    fit_s, fit_cpu_s = time.perf_counter() - start, time.process_time() - cpu
    start, cpu = time.perf_counter(), time.process_time()
    matrix = vec.transform(texts)
    transform_s, transform_cpu_s = time.perf_counter() - start, time.process_time() - cpu
    if a.vocab_out:
        with open(a.vocab_out, "w", encoding="utf-8") as f:
            for term in sorted(vec.vocabulary_, key=vec.vocabulary_.get):
                f.write(term + "\n")
    if not a.dump:
        print(json.dumps({"fit_s": fit_s, "transform_s": transform_s,
                          "fit_cpu_s": fit_cpu_s, "transform_cpu_s": transform_cpu_s,
                          "vocab": len(vec.vocabulary_), "nnz": int(matrix.nnz),
                          "documents": len(texts), "sklearn": sklearn.__version__}))
        return
    vocabulary = sorted(vec.vocabulary_, key=vec.vocabulary_.get)
    result = {"sklearn": sklearn.__version__, "options": options,
              "vocabulary": vocabulary, "idf": vec.idf_.tolist(), "vectors": rows(matrix)}
    if a.queries:
        result["queries"] = rows(vec.transform(read_texts(a.queries)))
    json.dump(result, sys.stdout, ensure_ascii=False, indent=None)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
