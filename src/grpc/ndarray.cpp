#include "grpc/ndarray.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>
#include <string>
#include <vector>

#include "caflow/errors.hpp"

namespace caflow::grpc_gateway {

namespace {

// A numpy dtype string such as "<f4": byte order, kind, item size.
struct Dtype {
  char kind = 0;  // 'f' float, 'i' signed, 'u' unsigned, 'b' bool
  size_t size = 0;
};

caf::error bad(std::string_view where, const std::string& what) {
  return make_error(errc::invalid_argument, std::string{where} + ": " + what);
}

caf::expected<Dtype> parse_dtype(const std::string& s, std::string_view where) {
  // numpy writes '<' (little), '>' (big), '|' (not applicable) or '=' (native).
  if (s.size() < 3 || (s[0] != '<' && s[0] != '|' && s[0] != '='))
    return bad(where, "dtype '" + s + "' is not a little-endian numpy dtype such as '<f4'");
  Dtype d{s[1], 0};
  for (size_t i = 2; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9')
      return bad(where, "dtype '" + s + "' is not a numpy dtype such as '<f4'");
    d.size = d.size * 10 + static_cast<size_t>(s[i] - '0');
  }
  bool ok = (d.kind == 'f' && (d.size == 4 || d.size == 8))
            || ((d.kind == 'i' || d.kind == 'u')
                && (d.size == 1 || d.size == 2 || d.size == 4 || d.size == 8))
            || (d.kind == 'b' && d.size == 1);
  if (!ok)
    return bad(where,
               "dtype '" + s + "' is not a real number type (use '<f4', '<f8' or an integer type)");
  return d;
}

template <class Src>
double load(const char* p) {
  Src x;
  std::memcpy(&x, p, sizeof(Src));
  return static_cast<double>(x);
}

double element(const Dtype& d, const char* p) {
  switch (d.kind) {
    case 'f':
      return d.size == 4 ? load<float>(p) : load<double>(p);
    case 'i':
      switch (d.size) {
        case 1:
          return load<int8_t>(p);
        case 2:
          return load<int16_t>(p);
        case 4:
          return load<int32_t>(p);
        default:
          return load<int64_t>(p);
      }
    case 'u':
      switch (d.size) {
        case 1:
          return load<uint8_t>(p);
        case 2:
          return load<uint16_t>(p);
        case 4:
          return load<uint32_t>(p);
        default:
          return load<uint64_t>(p);
      }
    default:
      return p[0] != 0 ? 1.0 : 0.0;
  }
}

// An array without its buffer (docarray reads it as zeros) is still bounded:
// a tiny message must not make us allocate gigabytes.
constexpr uint64_t max_elements = uint64_t{1} << 28;

// A dense array's elements as doubles, with its shape.
struct DenseArray {
  std::vector<uint64_t> shape;
  std::vector<double> values;
  bool integral = false;
};

caf::expected<DenseArray> read_dense(const docarray::DenseNdArrayProto& pb,
                                     std::string_view where) {
  DenseArray out;
  uint64_t n = 1;
  for (auto extent : pb.shape()) {
    if (extent != 0 && n > max_elements / extent)
      return bad(where, "shape has more than " + std::to_string(max_elements) + " elements");
    n *= extent;
    out.shape.push_back(extent);
  }
  if (pb.buffer().empty()) {
    out.values.assign(n, 0.0);
    return out;
  }
  auto dtype = parse_dtype(pb.dtype(), where);
  if (!dtype)
    return std::move(dtype.error());
  out.integral = dtype->kind != 'f';
  if (pb.buffer().size() != n * dtype->size)
    return bad(where, "buffer has " + std::to_string(pb.buffer().size())
                        + " bytes, but shape and dtype '" + pb.dtype() + "' need "
                        + std::to_string(n * dtype->size));
  out.values.resize(n);
  const char* p = pb.buffer().data();
  for (uint64_t i = 0; i < n; ++i, p += dtype->size)
    out.values[i] = element(*dtype, p);
  return out;
}

std::string shape_text(const std::vector<uint64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

// The axis along which a shape is a vector (every other extent is 1), or
// shape.size() for a shape that is not a vector.
size_t vector_axis(const std::vector<uint64_t>& shape) {
  size_t axis = shape.empty() ? 0 : shape.size() - 1;
  size_t others = 0;
  for (size_t i = 0; i < shape.size(); ++i)
    if (shape[i] != 1) {
      axis = i;
      ++others;
    }
  return others <= 1 && !shape.empty() ? axis : shape.size();
}

caf::expected<float> to_float(double x, std::string_view where) {
  if (std::isfinite(x) && std::abs(x) > std::numeric_limits<float>::max())
    return bad(where, "value " + std::to_string(x) + " is out of range for a float");
  return static_cast<float>(x);
}

caf::expected<Embedding> read_sparse(const docarray::NdArrayProto& pb, std::string_view where) {
  const auto& sp = pb.sparse();
  std::vector<uint64_t> shape(sp.shape().begin(), sp.shape().end());
  auto axis = vector_axis(shape);
  if (axis == shape.size())
    return bad(where,
               "sparse shape " + shape_text(shape) + " is not a vector (one row or one column)");
  if (shape[axis] > std::numeric_limits<uint32_t>::max())
    return bad(where, "sparse dimension " + std::to_string(shape[axis]) + " is too large");
  auto idx = read_dense(sp.indices(), std::string{where} + ".indices");
  if (!idx)
    return std::move(idx.error());
  auto val = read_dense(sp.values(), std::string{where} + ".values");
  if (!val)
    return std::move(val.error());
  if (!sp.indices().buffer().empty() && !idx->integral)
    return bad(where,
               "sparse indices must have an integer dtype, got '" + sp.indices().dtype() + "'");
  size_t nnz = val->values.size();
  size_t ndims = shape.size();
  // scipy and tensorflow: [nnz, ndims]; torch: [ndims, nnz]; a 1-D vector
  // may also come as [nnz].
  bool transposed = pb.cls_name() == "torch";
  bool ok_shape = idx->values.size() == nnz * ndims
                  && (idx->shape.size() == 2 || (idx->shape.size() == 1 && ndims == 1));
  if (ok_shape && idx->shape.size() == 2)
    ok_shape = transposed ? (idx->shape[0] == ndims && idx->shape[1] == nnz)
                          : (idx->shape[0] == nnz && idx->shape[1] == ndims);
  if (!ok_shape)
    return bad(where, "sparse indices of shape " + shape_text(idx->shape) + " do not fit "
                        + std::to_string(nnz) + " values of a " + std::to_string(ndims)
                        + "-d array");
  std::vector<std::pair<uint32_t, double>> entries;
  entries.reserve(nnz);
  for (size_t k = 0; k < nnz; ++k) {
    uint64_t pos = 0;
    for (size_t a = 0; a < ndims; ++a) {
      double c = transposed ? idx->values[a * nnz + k] : idx->values[k * ndims + a];
      if (c < 0 || c >= static_cast<double>(shape[a]))
        return bad(where, "sparse index " + std::to_string(static_cast<int64_t>(c))
                            + " is outside axis " + std::to_string(a) + " of shape "
                            + shape_text(shape));
      if (a == axis)
        pos = static_cast<uint64_t>(c);
    }
    entries.emplace_back(static_cast<uint32_t>(pos), val->values[k]);
  }
  std::stable_sort(entries.begin(), entries.end(),
                   [](const auto& x, const auto& y) { return x.first < y.first; });
  std::vector<uint32_t> indices;
  std::vector<float> values;
  for (size_t k = 0; k < entries.size();) {
    double sum = 0;
    auto pos = entries[k].first;
    for (; k < entries.size() && entries[k].first == pos; ++k)
      sum += entries[k].second;
    auto f = to_float(sum, where);
    if (!f)
      return std::move(f.error());
    indices.push_back(pos);
    values.push_back(*f);
  }
  return Embedding::sparse_vector(static_cast<uint32_t>(shape[axis]), std::move(indices),
                                  std::move(values));
}

template <class T>
void put_array(docarray::DenseNdArrayProto* out, const std::vector<T>& xs,
               std::initializer_list<uint32_t> shape, const char* dtype) {
  out->set_buffer(std::string(reinterpret_cast<const char*>(xs.data()), xs.size() * sizeof(T)));
  out->clear_shape();
  for (auto extent : shape)
    out->add_shape(extent);
  out->set_dtype(dtype);
}

}  // namespace

caf::expected<Embedding> read_ndarray(const docarray::NdArrayProto& pb, std::string_view where) {
  if (pb.has_sparse())
    return read_sparse(pb, where);
  if (!pb.has_dense())
    return Embedding{};
  auto dense = read_dense(pb.dense(), where);
  if (!dense)
    return std::move(dense.error());
  if (dense->values.empty())
    return Embedding{};
  if (vector_axis(dense->shape) == dense->shape.size())
    return bad(where,
               "shape " + shape_text(dense->shape) + " is not a vector (an embedding has one row)");
  std::vector<float> values(dense->values.size());
  for (size_t i = 0; i < values.size(); ++i) {
    auto f = to_float(dense->values[i], where);
    if (!f)
      return std::move(f.error());
    values[i] = *f;
  }
  return Embedding::dense_vector(std::move(values));
}

void write_ndarray(const Embedding& e, docarray::NdArrayProto* out) {
  if (!e.sparse) {
    out->set_cls_name("numpy");
    put_array(out->mutable_dense(), e.values, {static_cast<uint32_t>(e.values.size())}, "<f4");
    return;
  }
  out->set_cls_name("scipy");
  (*out->mutable_parameters()->mutable_fields())["sparse_format"].set_string_value("coo");
  auto* sp = out->mutable_sparse();
  auto nnz = static_cast<uint32_t>(e.indices.size());
  if (e.dim <= static_cast<uint32_t>(std::numeric_limits<int32_t>::max())) {
    std::vector<int32_t> idx(2 * size_t{nnz}, 0);
    for (size_t k = 0; k < nnz; ++k)
      idx[2 * k + 1] = static_cast<int32_t>(e.indices[k]);
    put_array(sp->mutable_indices(), idx, {nnz, 2}, "<i4");
  } else {
    std::vector<int64_t> idx(2 * size_t{nnz}, 0);
    for (size_t k = 0; k < nnz; ++k)
      idx[2 * k + 1] = e.indices[k];
    put_array(sp->mutable_indices(), idx, {nnz, 2}, "<i8");
  }
  put_array(sp->mutable_values(), e.values, {nnz}, "<f4");
  sp->clear_shape();
  sp->add_shape(1);
  sp->add_shape(e.dim);
}

}  // namespace caflow::grpc_gateway
