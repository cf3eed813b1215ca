#include "grpc/call_queues.hpp"

#include <pthread.h>

namespace caflow::grpc_gateway {

CallQueue::CallQueue(std::unique_ptr<grpc::ServerCompletionQueue> cq) : cq_(std::move(cq)) {
}

CallQueue::~CallQueue() {
  close();
}

namespace {

void take_all(grpc::ServerCompletionQueue& cq) {
  void* tag = nullptr;
  bool ok = false;
  while (cq.Next(&tag, &ok))
    static_cast<CompletionTag*>(tag)->complete(ok);
}

}  // namespace

void CallQueue::run() {
  thread_ = std::thread{[this] {
    pthread_setname_np(pthread_self(), "caflow-grpc");
    take_all(*cq_);
  }};
}

void CallQueue::close() {
  {
    std::unique_lock<std::shared_mutex> guard{gate_};
    if (closed_)
      return;
    closed_ = true;
    cq_->Shutdown();
  }
  if (thread_.joinable())
    thread_.join();
  else  // never run: a queue is destroyed only once every tag was taken
    take_all(*cq_);
}

}  // namespace caflow::grpc_gateway
