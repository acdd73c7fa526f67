#include "Trainer.h"
#include "Parallel.h"
#include "../Engine/RealtimeEngine.h"
#include "../Engine/RestState.h"
#include "../Model/ModelError.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <random>
#include <stdexcept>

namespace mfx::train {

namespace {

struct SegmentPick {
    std::size_t recording = 0, offset = 0;
};

// The segments of step `step`: a pure function of (seed, step), so a resumed run continues identically.
std::vector<SegmentPick> pickSegments(const std::vector<Recording>& recs, std::size_t len, int batch, std::uint64_t seed, long step) {
    std::seed_seq seq{static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32), static_cast<std::uint32_t>(step),
                      static_cast<std::uint32_t>(static_cast<std::uint64_t>(step) >> 32), 0x6d66u};
    std::mt19937_64 rng(seq);
    std::size_t total = 0;
    for (const auto& r : recs) total += r.input.size() - len + 1;
    std::uniform_int_distribution<std::size_t> pos(0, total - 1);
    std::vector<SegmentPick> out(static_cast<std::size_t>(batch));
    for (auto& p : out) {
        std::size_t u = pos(rng);
        for (std::size_t i = 0; i < recs.size(); ++i) {
            const std::size_t avail = recs[i].input.size() - len + 1;
            if (u < avail) { p = {i, u}; break; }
            u -= avail;
        }
    }
    return out;
}

template <typename V> void put(std::vector<std::uint8_t>& b, const V& v) {
    const auto* p = reinterpret_cast<const std::uint8_t*>(&v);
    b.insert(b.end(), p, p + sizeof(V));
}
void putVec(std::vector<std::uint8_t>& b, const std::vector<double>& v) {
    put(b, static_cast<std::uint64_t>(v.size()));
    const auto* p = reinterpret_cast<const std::uint8_t*>(v.data());
    b.insert(b.end(), p, p + v.size() * sizeof(double));
}
struct Reader {
    const std::vector<std::uint8_t>& b;
    std::size_t pos = 0;
    void raw(void* dst, std::size_t n) {
        if (pos + n > b.size()) throw std::runtime_error("checkpoint is truncated");
        std::memcpy(dst, b.data() + pos, n);
        pos += n;
    }
    template <typename V> V get() { V v; raw(&v, sizeof(V)); return v; }
    std::vector<double> vec(std::size_t expect) {
        const auto n = get<std::uint64_t>();
        if (n != expect) throw std::runtime_error("checkpoint holds " + std::to_string(n) + " values where the model has " + std::to_string(expect));
        std::vector<double> v(n);
        raw(v.data(), n * sizeof(double));
        return v;
    }
};
// Plain ESR over every recording: summed numerators / summed denominators.
double esrOverRecordings(const std::vector<Recording>& recs, const std::vector<std::vector<float>>& preds) {
    double num = 0, den = 0;
    for (std::size_t i = 0; i < recs.size(); ++i) {
        const auto& tg = recs[i].target;
        for (std::size_t t = 0; t < tg.size(); ++t) {
            const double e = static_cast<double>(tg[t]) - static_cast<double>(preds[i][t]);
            num += e * e;
            den += static_cast<double>(tg[t]) * static_cast<double>(tg[t]);
        }
    }
    // Undefined for a silent target, and meaningless when a sample or a prediction is not finite: NaN
    // then, never a number that could pass for a (perfect) score.
    if (!(den > 0) || !std::isfinite(num) || !std::isfinite(den)) return std::numeric_limits<double>::quiet_NaN();
    return num / den;
}

constexpr char kMagic[8] = {'M', 'F', 'X', 'C', 'K', 'P', 'T', '1'};

} // namespace

Trainer::Trainer(const Model& init, std::vector<Recording> train, std::vector<Recording> val, const TrainOptions& o,
                 std::unique_ptr<GradientBackend> backend)
    : model_(init), layout_(init.config), params_(flatten(init)), train_(std::move(train)), val_(std::move(val)), o_(o),
      backend_(backend ? std::move(backend) : makeCpuGradientBackend(init.config, o.threads)), adam_(layout_.total, o.adam) {
    const std::size_t len = o_.segmentLength + o_.warmup;
    if (train_.empty()) throw std::invalid_argument("no training audio");
    if (o_.batchSize < 1 || o_.segmentLength < 1) throw std::invalid_argument("batch size and segment length must be positive");
    std::size_t usable = 0;
    for (const auto* set : {&train_, &val_})
        for (const auto& r : *set) {
            if (r.input.size() != r.target.size())
                throw std::invalid_argument("recording '" + r.label + "': input and target lengths differ");
            if (r.cond.size() != static_cast<std::size_t>(init.config.nCond))
                throw std::invalid_argument("recording '" + r.label + "' has " + std::to_string(r.cond.size()) +
                                            " conditioning values, the model takes " + std::to_string(init.config.nCond));
        }
    for (const auto& r : train_) usable += r.input.size() >= len ? 1 : 0;
    if (usable != train_.size())
        throw std::invalid_argument("every training recording must hold at least one segment (" + std::to_string(len) +
                                    " samples = warm-up + segment); shorten --segment or --warmup, or use longer audio");
}

std::size_t Trainer::trainSamples() const {
    std::size_t n = 0;
    for (const auto& r : train_) n += r.input.size();
    return n;
}

void Trainer::syncModel() { unflatten(params_, model_); }

bool Trainer::parametersFinite() const {
    return std::all_of(params_.begin(), params_.end(), [](double p) { return std::isfinite(p); });
}

StepResult Trainer::step() {
    const std::size_t len = o_.segmentLength + o_.warmup;
    const auto picks = pickSegments(train_, len, o_.batchSize, o_.seed, step_);
    const int nCond = model_.config.nCond;
    double den = 0;
    for (const auto& p : picks) den += lossDenominator(train_[p.recording].target.data() + p.offset, len, o_.warmup, o_.loss);
    if (!(den > 0)) den = 1e-30; // silent batch: the loss is then the raw error energy scaled up, still finite

    SegmentBatch batch;
    batch.length = len;
    batch.warmup = o_.warmup;
    for (const auto& p : picks) {
        const auto& r = train_[p.recording];
        batch.input.push_back(r.input.data() + p.offset);
        batch.target.push_back(r.target.data() + p.offset);
        if (nCond) batch.cond.push_back(r.cond.data());
    }
    std::vector<double> grad;
    const double loss = backend_->lossAndGradient(params_, batch, den, o_.loss, grad);
    StepResult res;
    res.loss = loss;
    res.lr = scheduledLr(o_.adam, step_, o_.totalSteps);
    res.gradNorm = adam_.update(params_, grad, res.lr);
    ++step_;
    syncModel();
    return res;
}

std::vector<float> renderRecording(const Model& model, const Recording& r, bool fromRest) {
    // A diverged model (a weight no longer finite) cannot be prepared for the engine: its output is
    // NaN, so validationEsr says NaN and the caller stops the run.
    for (const auto& t : tensorTable(model.config, model.weights))
        for (float v : *t.data)
            if (!std::isfinite(v)) return std::vector<float>(r.input.size(), std::numeric_limits<float>::quiet_NaN());
    RealtimeEngine engine(model, 1);
    if (model.config.nCond > 0) engine.setConditioning(r.cond.data());
    if (fromRest) {
        try {
            engine.setInitialState(engineRestState(model, model.config.nCond > 0 ? r.cond.data() : nullptr));
        } catch (const ModelError&) { // no finite rest state: a diverged model, as above
            return std::vector<float>(r.input.size(), std::numeric_limits<float>::quiet_NaN());
        }
    }
    std::vector<float> out(r.input.size());
    const std::size_t chunk = 1 << 16;
    for (std::size_t pos = 0; pos < r.input.size(); pos += chunk) {
        const int n = static_cast<int>(std::min(chunk, r.input.size() - pos));
        engine.process(r.input.data() + pos, out.data() + pos, n);
    }
    return out;
}

double validationEsr(const Model& model, const std::vector<Recording>& recs, int threads, std::vector<std::vector<float>>* outputs,
                     bool fromRest) {
    if (recs.empty()) return -1.0;
    std::vector<std::vector<float>> preds(recs.size());
    const int nThreads = std::max(1, std::min<int>(threads, static_cast<int>(recs.size())));
    auto work = [&](int w) {
        for (std::size_t i = static_cast<std::size_t>(w); i < recs.size(); i += static_cast<std::size_t>(nThreads))
            preds[i] = renderRecording(model, recs[i], fromRest);
    };
    runOnThreads(nThreads, work);
    const double e = esrOverRecordings(recs, preds);
    if (outputs) *outputs = std::move(preds);
    return e;
}

double validationEsr(const Model& model, const std::vector<Recording>& recs, RenderBackend& backend,
                     std::vector<std::vector<float>>* outputs) {
    if (recs.empty()) return -1.0;
    backend.prepare(model, 1);
    std::vector<std::vector<float>> preds(recs.size());
    for (std::size_t i = 0; i < recs.size(); ++i) {
        backend.reset();
        if (model.config.nCond > 0) backend.setConditioning(recs[i].cond.data());
        preds[i].assign(recs[i].input.size(), 0.0f);
        const float* in = recs[i].input.data();
        float* out = preds[i].data();
        backend.process(&in, &out, 1, recs[i].input.size());
    }
    const double e = esrOverRecordings(recs, preds);
    if (outputs) *outputs = std::move(preds);
    return e;
}

double Trainer::validate(std::vector<std::vector<float>>* outputs) const {
    if (valBackend_) return validationEsr(model_, val_, *valBackend_, outputs);
    return validationEsr(model_, val_, o_.threads, outputs);
}

std::vector<std::uint8_t> Trainer::checkpoint() const {
    std::vector<std::uint8_t> b(kMagic, kMagic + 8);
    const std::string cfg = model_.config.toJson();
    put(b, static_cast<std::uint64_t>(cfg.size()));
    b.insert(b.end(), cfg.begin(), cfg.end());
    put(b, static_cast<std::int64_t>(step_));
    putVec(b, params_);
    auto& a = const_cast<Adam&>(adam_);
    putVec(b, a.m());
    putVec(b, a.v());
    put(b, static_cast<std::int64_t>(adam_.steps()));
    return b;
}

void Trainer::restore(const std::vector<std::uint8_t>& bytes) {
    Reader r{bytes};
    char magic[8];
    r.raw(magic, 8);
    if (std::memcmp(magic, kMagic, 8) != 0) throw std::runtime_error("not a MambaFX training checkpoint (bad magic)");
    const auto n = r.get<std::uint64_t>();
    if (n > 4096) throw std::runtime_error("checkpoint header is corrupt");
    std::string cfg(n, '\0');
    r.raw(cfg.data(), n);
    if (!(Config::fromJson(cfg) == model_.config))
        throw std::runtime_error("checkpoint is for a different model size (" + Config::fromJson(cfg).summary() + ")");
    const auto step = r.get<std::int64_t>();
    auto params = r.vec(layout_.total);
    auto m = r.vec(layout_.total);
    auto v = r.vec(layout_.total);
    const auto t = r.get<std::int64_t>();
    step_ = step;
    params_ = std::move(params);
    adam_.m() = std::move(m);
    adam_.v() = std::move(v);
    adam_.setSteps(t);
    syncModel();
}

} // namespace mfx::train
