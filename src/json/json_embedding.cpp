#include "json/json_embedding.hpp"

#include "caflow/json.hpp"

#include <charconv>
#include <cmath>
#include <limits>

#include "caflow/json.hpp"
#include "json/json_fast.hpp"
#include "json/json_path.hpp"

namespace caflow {

namespace {

using json_path::element;
using json_path::field;
using json_path::invalid;
using json_path::type_error;

// Whole numbers (sparse indices, dim) may arrive as floats: Jina sends 3.0.
bool to_index(const Value& x, uint32_t& out) {
  if (x.is_int()) {
    auto i = x.as_int();
    if (i < 0 || i > std::numeric_limits<uint32_t>::max())
      return false;
    out = static_cast<uint32_t>(i);
    return true;
  }
  if (!x.is_double())
    return false;
  auto d = x.as_double();
  if (!(d >= 0 && d <= std::numeric_limits<uint32_t>::max()) || std::trunc(d) != d)
    return false;
  out = static_cast<uint32_t>(d);
  return true;
}

caf::error read_floats(const Value* x, const std::string& path, std::vector<float>& out) {
  if (x == nullptr || !x->is_array())
    return type_error(path, "an array", x ? *x : Value{});
  const auto& xs = x->as_array();
  out.reserve(xs.size());
  for (size_t i = 0; i < xs.size(); ++i) {
    if (!xs[i].is_number())
      return type_error(element(path, i), "a number", xs[i]);
    if (!fits_float(xs[i].as_double()))
      return invalid(
        element(path, i),
        "expected a number in float range (finite, |x| < 3.4e38), got " + to_json(xs[i]));
    out.push_back(static_cast<float>(xs[i].as_double()));
  }
  return {};
}

caf::error read_sparse(const Value& x, const std::string& path, Embedding& out) {
  std::vector<float> values;
  if (auto err = read_floats(x.find("values"), field(path, "values"), values))
    return err;
  auto dim_path = field(path, "dim");
  uint32_t dim = 0;
  const auto* d = x.find("dim");
  if (d == nullptr || !d->is_number())
    return type_error(dim_path, "an integer", d ? *d : Value{});
  if (!to_index(*d, dim))
    return invalid(dim_path, "expected an integer in [0, 2^32)");
  auto ix_path = field(path, "indices");
  const auto* ix = x.find("indices");
  if (ix == nullptr || !ix->is_array())
    return type_error(ix_path, "an array", ix ? *ix : Value{});
  const auto& xs = ix->as_array();
  if (xs.size() != values.size())
    return invalid(path, "indices and values differ in length (" + std::to_string(xs.size())
                           + " and " + std::to_string(values.size()) + ")");
  std::vector<uint32_t> indices;
  indices.reserve(xs.size());
  for (size_t i = 0; i < xs.size(); ++i) {
    uint32_t k = 0;
    if (!xs[i].is_number())
      return type_error(element(ix_path, i), "an integer", xs[i]);
    if (!to_index(xs[i], k) || k >= dim)
      return invalid(element(ix_path, i), "expected an integer in [0, dim)");
    if (!indices.empty() && k <= indices.back())
      return invalid(element(ix_path, i), "indices must be strictly increasing");
    indices.push_back(k);
  }
  // Validated above, so the factory does not throw.
  out = Embedding::sparse_vector(dim, std::move(indices), std::move(values));
  return {};
}

// The double nearest the float's shortest decimal text: written out it reads
// "0.1" rather than "0.10000000149011612", and still reads back as the float.
double short_float(float f) {
  char buf[32];
  auto end = std::to_chars(buf, buf + sizeof(buf), f).ptr;
  double d = 0;
  std::from_chars(buf, end, d);
  return static_cast<float>(d) == f ? d : static_cast<double>(f);
}

Value floats_value(const std::vector<float>& xs) {
  Value::Array out;
  out.reserve(xs.size());
  for (float f : xs)
    out.emplace_back(short_float(f));
  return out;
}

}  // namespace

caf::error read_embedding(const Value& x, const std::string& path, Embedding& out) {
  if (x.is_object())
    return read_sparse(x, path, out);
  if (!x.is_array())
    return type_error(path, "an array or a sparse object", x);
  // docarray 0.6 writes a scipy sparse row (shape 1 x dim) as the dense 2-D
  // list [[0.0, ..., 0.73, ...]]: one row, read back as the sparse vector it
  // was (its non-zeros, dimension = the row's length).
  if (!x.as_array().empty() && x.as_array()[0].is_array()) {
    const auto& rows = x.as_array();
    if (rows.size() != 1)
      return invalid(path, "expected one row ([[...]], a 1 x dim matrix), got "
                             + std::to_string(rows.size()) + " rows");
    std::vector<float> row;
    if (auto err = read_floats(&rows[0], element(path, 0), row))
      return err;
    std::vector<uint32_t> indices;
    std::vector<float> values;
    for (size_t i = 0; i < row.size(); ++i)
      if (row[i] != 0) {
        indices.push_back(static_cast<uint32_t>(i));
        values.push_back(row[i]);
      }
    out = Embedding::sparse_vector(static_cast<uint32_t>(row.size()), std::move(indices),
                                   std::move(values));
    return {};
  }
  std::vector<float> values;
  if (auto err = read_floats(&x, path, values))
    return err;
  out = Embedding::dense_vector(std::move(values));
  return {};
}

Value embedding_value(const Embedding& e) {
  if (!e.sparse)
    return floats_value(e.values);
  Value::Array indices(e.indices.begin(), e.indices.end());
  return Value{{"indices", std::move(indices)}, {"values", floats_value(e.values)}, {"dim", e.dim}};
}

namespace json_fast {

namespace {

void append_floats(std::string& out, const std::vector<float>& xs) {
  out += '[';
  for (size_t i = 0; i < xs.size(); ++i) {
    if (i > 0)
      out += ',';
    append_double(out, short_float(xs[i]));
  }
  out += ']';
}

}  // namespace

// embedding_value's text: an object's keys come sorted (dim, indices, values).
void append_embedding(std::string& out, const Embedding& e) {
  if (!e.sparse) {
    append_floats(out, e.values);
    return;
  }
  out += "{\"dim\":";
  append_int(out, e.dim);
  out += ",\"indices\":[";
  for (size_t i = 0; i < e.indices.size(); ++i) {
    if (i > 0)
      out += ',';
    append_int(out, e.indices[i]);
  }
  out += "],\"values\":";
  append_floats(out, e.values);
  out += '}';
}

}  // namespace json_fast

}  // namespace caflow
