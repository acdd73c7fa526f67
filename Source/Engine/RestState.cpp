#include "RestState.h"

#include "RealtimeEngine.h"
#include "../Model/ModelError.h"
#include "../Reference/Reference.h"

#include <vector>

namespace mfx {

State engineRestState(const Model& model, const float* cond) {
    RealtimeEngine engine(model, 1);
    if (cond) engine.setConditioning(cond);
    engine.setInitialState(restState(model, cond));
    std::vector<float> silence(static_cast<std::size_t>(RealtimeEngine::kSubBlock), 0.0f), sink(silence.size()); // (kSubBlock)
    for (int done = 0; done < kSettleSamples; done += RealtimeEngine::kSubBlock)
        engine.process(silence.data(), sink.data(), RealtimeEngine::kSubBlock);
    State settled = engine.getState(0);
    if (!settled.allFinite()) throw ModelError("the model's state under silence does not stay finite");
    return settled;
}

} // namespace mfx
