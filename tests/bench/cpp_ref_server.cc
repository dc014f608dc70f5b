// cpp_ref_server: the reference the benchmark compares Shelfline's server
// with.  A minimal C++ gRPC *async* server built from Debian's libgrpc++,
// serving grpc.testing.TestService's UnaryCall and EmptyCall the way the
// grpc++ async examples (and gRPC's own qps benchmark server) do it: one
// completion queue per thread, each thread polling only its own queue, and
// several requests kept armed per method per queue so a burst of new calls
// never waits for a handler to re-arm.
//
// usage: cpp_ref_server --port=N [--threads=N] [--slots=N]
//
// Deliberately nothing more than the ordinary async pattern: the point is to
// measure what a typical C++ service gets from the same gRPC release, not a
// hand-tuned C++ server.  It runs until SIGINT or SIGTERM.

#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <pthread.h>

#include <grpcpp/grpcpp.h>

#include "grpc/testing/test.grpc.pb.h"

namespace
{

using grpc::testing::Empty;
using grpc::testing::SimpleRequest;
using grpc::testing::SimpleResponse;
using grpc::testing::TestService;

// Largest response_size honoured: the default 4 MiB message limit.
constexpr int kMaxResponseSize = 4 * 1024 * 1024;

// A completion-queue tag: every armed request is one of these and handles
// its own completions.
class Tag
{
  public:
    virtual ~Tag() = default;
    // ok is the completion's success flag; the object deletes itself or
    // re-arms when its call is over.
    virtual void Proceed(bool ok) = 0;
};

// One in-flight unary call of method Req -> Resp.  It starts armed (waiting
// for a call), handles the request when one arrives, and once the reply is
// sent re-arms itself for the next call, so the number of armed slots per
// queue stays constant.
template <class Req, class Resp, class Handler> class UnaryCallData final : public Tag
{
  public:
    using RequestFn = void (TestService::AsyncService::*)(grpc::ServerContext *, Req *,
                                                          grpc::ServerAsyncResponseWriter<Resp> *,
                                                          grpc::CompletionQueue *,
                                                          grpc::ServerCompletionQueue *, void *);

    UnaryCallData(TestService::AsyncService *service, grpc::ServerCompletionQueue *cq,
                  RequestFn request, const std::atomic<bool> *stopping)
        : service_(service), cq_(cq), request_(request), stopping_(stopping)
    {
        Arm();
    }

    void Proceed(bool ok) override
    {
        // A failed armed request means the server is shutting down; once it
        // is, nothing may be armed again because the queue is about to shut
        // down too.  A failed reply (the client went away) ends only its
        // call: the slot is re-armed as after any other reply.
        if ((!ok && state_ == State::kWaiting) || stopping_->load(std::memory_order_relaxed)) {
            delete this;
            return;
        }
        if (state_ == State::kWaiting) {
            state_ = State::kReplying;
            Resp resp;
            grpc::Status status = Handler{}(req_, &resp);
            if (status.ok())
                writer_->Finish(resp, status, this);
            else
                writer_->FinishWithError(status, this);
            return;
        }
        Arm();
    }

  private:
    enum class State { kWaiting, kReplying };

    void Arm()
    {
        // A ServerContext cannot be reused, so each call gets a fresh one;
        // the request message is simply cleared.
        ctx_ = std::make_unique<grpc::ServerContext>();
        writer_ = std::make_unique<grpc::ServerAsyncResponseWriter<Resp>>(ctx_.get());
        req_.Clear();
        state_ = State::kWaiting;
        (service_->*request_)(ctx_.get(), &req_, writer_.get(), cq_, cq_, this);
    }

    TestService::AsyncService *service_;
    grpc::ServerCompletionQueue *cq_;
    RequestFn request_;
    const std::atomic<bool> *stopping_;
    std::unique_ptr<grpc::ServerContext> ctx_;
    std::unique_ptr<grpc::ServerAsyncResponseWriter<Resp>> writer_;
    Req req_;
    State state_ = State::kWaiting;
};

struct EmptyHandler {
    grpc::Status operator()(const Empty &, Empty *)
    {
        return grpc::Status::OK;
    }
};

// The interop semantics of UnaryCall that matter for load: a payload of
// response_size zero bytes, and response_status echoed back so a load
// generator's error counting can be checked against this server.
struct UnaryHandler {
    grpc::Status operator()(const SimpleRequest &req, SimpleResponse *resp)
    {
        if (req.has_response_status() && req.response_status().code() != 0)
            return grpc::Status(static_cast<grpc::StatusCode>(req.response_status().code()),
                                req.response_status().message());
        if (req.response_size() < 0 || req.response_size() > kMaxResponseSize)
            return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "response_size out of range");
        if (req.response_size() > 0) {
            resp->mutable_payload()->set_type(req.response_type());
            resp->mutable_payload()->mutable_body()->assign(
                static_cast<size_t>(req.response_size()), '\0');
        }
        return grpc::Status::OK;
    }
};

using EmptyCallData = UnaryCallData<Empty, Empty, EmptyHandler>;
using UnaryCallCallData = UnaryCallData<SimpleRequest, SimpleResponse, UnaryHandler>;

void Poll(grpc::ServerCompletionQueue *cq)
{
    void *tag;
    bool ok;
    while (cq->Next(&tag, &ok))
        static_cast<Tag *>(tag)->Proceed(ok);
}

// Parses "--name=value" as an int in [lo, hi]; exits naming the bad value.
bool IntFlag(const char *arg, const char *name, int lo, int hi, int *out)
{
    size_t n = std::strlen(name);
    if (std::strncmp(arg, name, n) != 0 || arg[n] != '=')
        return false;
    char *end;
    long v = std::strtol(arg + n + 1, &end, 10);
    if (arg[n + 1] == '\0' || *end != '\0' || v < lo || v > hi) {
        std::fprintf(stderr, "cpp_ref_server: invalid %s \"%s\" (expected %d..%d)\n", name,
                     arg + n + 1, lo, hi);
        std::exit(2);
    }
    *out = static_cast<int>(v);
    return true;
}

} // namespace

int main(int argc, char **argv)
{
    int port = -1, threads = 1, slots = 64;
    for (int i = 1; i < argc; i++) {
        if (IntFlag(argv[i], "--port", 0, 65535, &port) ||
            IntFlag(argv[i], "--threads", 1, 256, &threads) ||
            IntFlag(argv[i], "--slots", 1, 100000, &slots))
            continue;
        std::fprintf(stderr,
                     "cpp_ref_server: unknown argument \"%s\"\n"
                     "usage: cpp_ref_server --port=N [--threads=N] [--slots=N]\n",
                     argv[i]);
        return 2;
    }
    if (port < 0) {
        std::fprintf(stderr, "cpp_ref_server: --port is required\n");
        return 2;
    }

    // Block the stop signals before gRPC starts any thread, so every thread
    // inherits the mask and sigwait below is the only place they arrive.
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, nullptr);

    TestService::AsyncService service;
    std::atomic<bool> stopping{false};
    grpc::ServerBuilder builder;
    int bound = 0;
    builder.AddListeningPort("127.0.0.1:" + std::to_string(port), grpc::InsecureServerCredentials(),
                             &bound);
    // gRPC sets SO_REUSEPORT by default: a port already taken by another
    // server would then be shared with it, and a benchmark would measure
    // both.  Failing to bind is the useful outcome.
    builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
    builder.RegisterService(&service);
    std::vector<std::unique_ptr<grpc::ServerCompletionQueue>> cqs;
    for (int i = 0; i < threads; i++)
        cqs.push_back(builder.AddCompletionQueue());
    std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
    if (!server || bound == 0) {
        std::fprintf(stderr, "cpp_ref_server: could not listen on 127.0.0.1:%d\n", port);
        return 1;
    }

    for (auto &cq : cqs) {
        for (int s = 0; s < slots; s++) {
            new UnaryCallCallData(&service, cq.get(), &TestService::AsyncService::RequestUnaryCall,
                                  &stopping);
            new EmptyCallData(&service, cq.get(), &TestService::AsyncService::RequestEmptyCall,
                              &stopping);
        }
    }
    std::vector<std::thread> pollers;
    for (auto &cq : cqs)
        pollers.emplace_back(Poll, cq.get());
    std::printf("cpp_ref_server: listening on 127.0.0.1:%d with %d thread(s)\n", bound, threads);
    std::fflush(stdout);

    int sig = 0;
    sigwait(&stop, &sig);
    // Stop re-arming, then the server (cancels armed requests and ends
    // calls), then the queues, which the pollers drain before returning.
    stopping.store(true);
    server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
    for (auto &cq : cqs)
        cq->Shutdown();
    for (auto &t : pollers)
        t.join();
    return 0;
}
