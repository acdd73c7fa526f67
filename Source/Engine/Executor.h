#pragma once
// How a block's row/lane ranges are run: inline (real-time engine) or across a thread pool (offline).
#include <cstddef>
#include <type_traits>
#include <utility>

namespace mfx {

// A non-owning reference to a callable (never allocates, unlike std::function).
template <typename Sig>
class FunctionRef;
template <typename R, typename... Args>
class FunctionRef<R(Args...)> {
public:
    template <typename F, typename = std::enable_if_t<!std::is_same_v<std::decay_t<F>, FunctionRef>>>
    FunctionRef(F&& f) noexcept // NOLINT(google-explicit-constructor)
        : obj_(const_cast<void*>(static_cast<const void*>(&f))),
          call_([](void* o, Args... a) -> R { return (*static_cast<std::remove_reference_t<F>*>(o))(std::forward<Args>(a)...); }) {}
    R operator()(Args... a) const { return call_(obj_, std::forward<Args>(a)...); }

private:
    void* obj_;
    R (*call_)(void*, Args...);
};

class Executor {
public:
    virtual ~Executor() = default;
    // Calls f(begin, end) over disjoint ranges covering [0, n), each a multiple of `grain` long except
    // possibly the last; returns when all are done.
    virtual void parallelFor(std::size_t n, std::size_t grain, FunctionRef<void(std::size_t, std::size_t)> f) noexcept = 0;
};

class InlineExecutor final : public Executor {
public:
    void parallelFor(std::size_t n, std::size_t, FunctionRef<void(std::size_t, std::size_t)> f) noexcept override {
        if (n > 0) f(0, n);
    }
};

} // namespace mfx
