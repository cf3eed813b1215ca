#include "grpc/struct_value.hpp"

namespace caflow::grpc_gateway {

Value from_proto_value(const google::protobuf::Value& v) {
  using K = google::protobuf::Value::KindCase;
  switch (v.kind_case()) {
    case K::kBoolValue:
      return Value{v.bool_value()};
    case K::kNumberValue:
      return Value{v.number_value()};
    case K::kStringValue:
      return Value{v.string_value()};
    case K::kStructValue:
      return from_struct(v.struct_value());
    case K::kListValue: {
      Value::Array items;
      items.reserve(v.list_value().values_size());
      for (const auto& item : v.list_value().values())
        items.push_back(from_proto_value(item));
      return Value{std::move(items)};
    }
    case K::kNullValue:
    case K::KIND_NOT_SET:
      break;
  }
  return Value{};
}

Value from_struct(const google::protobuf::Struct& s) {
  Value::Object members;
  for (const auto& [key, value] : s.fields())
    members.emplace(key, from_proto_value(value));
  return Value{std::move(members)};
}

void to_proto_value(const Value& v, google::protobuf::Value* out) {
  switch (v.kind()) {
    case Value::Kind::null:
      out->set_null_value(google::protobuf::NULL_VALUE);
      return;
    case Value::Kind::boolean:
      out->set_bool_value(v.as_bool());
      return;
    case Value::Kind::integer:
    case Value::Kind::number:
      out->set_number_value(v.as_double());
      return;
    case Value::Kind::string:
      out->set_string_value(v.as_string());
      return;
    case Value::Kind::array: {
      auto* list = out->mutable_list_value();
      for (const auto& item : v.as_array())
        to_proto_value(item, list->add_values());
      return;
    }
    case Value::Kind::object:
      to_struct(v, out->mutable_struct_value());
      return;
  }
}

void to_struct(const Value& v, google::protobuf::Struct* out) {
  out->Clear();
  if (!v.is_object())
    return;
  auto& fields = *out->mutable_fields();
  for (const auto& [key, value] : v.as_object())
    to_proto_value(value, &fields[key]);
}

}  // namespace caflow::grpc_gateway
