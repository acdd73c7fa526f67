#pragma once
// The blueprint of a MambaFX audio model. Names follow the Mamba paper / mamba_simple.py.
//
//   embedding : Linear(1 + nCond -> dModel, bias) over [sample, cond...]
//   nLayers x : r <- r + Mamba(RMSNorm(r))
//   norm_f    : RMSNorm(dModel)
//   head      : Linear(dModel -> 1, bias) + skip * sample
#include <string>

namespace mfx {

struct Config {
    int dModel = 16;     // residual stream width
    int nLayers = 2;     // residual Mamba blocks
    int dState = 16;     // SSM state size N
    int dConv = 4;       // causal depthwise conv taps
    int expand = 2;      // dInner = expand * dModel
    int dtRank = 1;      // rank of the dt projection (default ceil(dModel / 16))
    int nCond = 0;       // conditioning inputs (knobs) appended to the sample
    double sampleRate = 48000.0;

    int dInner() const { return expand * dModel; }
    int xProjOut() const { return dtRank + 2 * dState; } // x_proj rows: (dt, B, C)
    static int defaultDtRank(int dModel) { return (dModel + 15) / 16; }

    // Throws ModelError naming the first field out of range.
    void validate() const;

    // The `config` metadata value: {"d_model":..,"n_layers":..,"d_state":..,"d_conv":..,"expand":..,
    // "dt_rank":..,"n_cond":..,"sample_rate":..}. dt_rank, n_cond, sample_rate are optional on parse.
    std::string toJson() const;
    static Config fromJson(const std::string& json); // throws ModelError
    std::string summary() const;                      // one human-readable line

    // Parameter count of the whole model.
    long long parameterCount() const;

    bool operator==(const Config&) const = default;
};

} // namespace mfx
