#pragma once
// Distribution of callback time as a fraction of the buffer period, in bins of 0.1 % up to 400 %.
// Written by the audio thread only (fixed array, no allocation); read after the stream has stopped
// (or by the benchmark's single thread) for the median and the 99.9th percentile.
#include <algorithm>
#include <array>
#include <cstdint>

namespace mfx::live {

class LoadHistogram {
public:
    static constexpr int kBinsPerUnit = 1000; // 0.1 % of the period per bin
    static constexpr int kBins = 4 * kBinsPerUnit;

    void add(double load) noexcept {
        // Clamped before the conversion: a callback stalled for minutes (or a NaN) must not make an
        // out-of-range int (undefined; INT_MIN on x86, which would index before the array).
        const double x = load * kBinsPerUnit;
        const int bin = !(x > 0.0) ? 0 : x >= static_cast<double>(kBins) ? kBins : static_cast<int>(x); // kBins: overflow bin
        ++counts_[static_cast<std::size_t>(bin)];
        ++total_;
        if (load > max_) max_ = load; // (a NaN never raises it)
    }
    void clear() noexcept { counts_.fill(0); total_ = 0; max_ = 0.0; }

    std::uint64_t count() const noexcept { return total_; }
    double max() const noexcept { return max_; }

    // The load below which a fraction q of the callbacks fall (upper edge of the bin; 0 when empty).
    double quantile(double q) const noexcept {
        if (total_ == 0) return 0.0;
        const double target = std::clamp(q, 0.0, 1.0) * static_cast<double>(total_);
        std::uint64_t seen = 0;
        for (int b = 0; b <= kBins; ++b) {
            seen += counts_[static_cast<std::size_t>(b)];
            if (static_cast<double>(seen) >= target && seen > 0)
                return b == kBins ? max_ : std::min(max_, static_cast<double>(b + 1) / kBinsPerUnit);
        }
        return max_;
    }

private:
    std::array<std::uint64_t, kBins + 1> counts_{};
    std::uint64_t total_ = 0;
    double max_ = 0.0;
};

} // namespace mfx::live
