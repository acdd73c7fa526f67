#pragma once
// Function-preserving growth: a trained model with more layers, or more SSM state per channel, that
// computes exactly what it computed before, as the starting point of a fine-tuning run
// (mfx_train_default --init-model with more --layers or a larger --d-state; docs/MODELS.md,
// "Retraining").
#include "../Model/Weights.h"

#include <cstdint>
#include <string>

namespace mfx::train {

// The trained layers keep their weights and order; nLayers - trained.config.nLayers new layers are
// spread evenly between them, at indices (k + 1) * nLayers / (extra + 1) for k = 0..extra-1 (4 and 8
// for 10 -> 12), with the reference initialisation (randomModel with `seed`) and out_proj at zero:
// a new layer's residual branch adds exactly 0, so the output is unchanged bit for bit, while
// out_proj's gradient (y^T dL/dout) is non-zero, so training wakes the layer up. Embedding, norm_f,
// head, skip and metadata are the trained model's. Throws ModelError if nLayers is smaller than the
// trained model's. `note` (if given) receives e.g. "deepened from 10 layers: new layers 4, 8
// (reference init, out_proj at zero)"; empty when nothing was added.
Model deepened(const Model& trained, int nLayers, std::uint64_t seed, std::string* note = nullptr);

// Every layer's SSM widened from the trained dState to `dState` states per channel: the trained
// states keep their A_log and their B and C rows of x_proj; each new state n gets the reference
// initialisation (S4D-real A_log = log(n + 1), B rows from randomModel with `seed`) and a C row of
// zeros, so y = C h + D x gains only exact zeros and the output is unchanged (bit for bit in the
// float64 reference and the CPU engine, which add the states in order; tested), while the
// new C rows' gradient (dL/dy h_n, h_n driven by the non-zero B) is not zero, so training can use
// them. Throws ModelError if dState is smaller than the trained model's. `note` (if given) receives
// e.g. "widened from dState 4 to 8 (new states: reference init, C at zero)"; empty when unchanged.
Model widenedState(const Model& trained, int dState, std::uint64_t seed, std::string* note = nullptr);

} // namespace mfx::train
