"""RBM and DBN: energies against brute-force sums, the CD update direction against the exact
log-likelihood, PCD chains, learning a pattern set, DBN -> MLP transfer, reproducibility,
parity with scikit-learn's BernoulliRBM and the `nnscratch train --model dbn` command."""

import os

import numpy as np
import pytest

import nnscratch as ns
from nnscratch import nn

DATA = os.environ.get("NNSCRATCH_DATA")
needs_mnist = pytest.mark.skipif(not DATA or not os.path.isdir(os.path.join(DATA, "mnist")),
                                 reason="NNSCRATCH_DATA with mnist/ is not set")


def all_states(n):
    return np.array([[(i >> j) & 1 for j in range(n)] for i in range(2 ** n)], dtype=np.float64)


def tiny_rbm(n_visible, n_hidden, rng, visible="bernoulli", scale=0.8):
    rbm = nn.RBM(n_visible, n_hidden, visible=visible)
    rbm.weight.data[...] = rng.normal(0, scale, (n_hidden, n_visible))
    rbm.h_bias.data[...] = rng.normal(0, scale, n_hidden)
    rbm.v_bias.data[...] = rng.normal(0, scale, n_visible)
    return rbm


def brute_force_free_energy(rbm, v):
    """-log Σ_h exp(-E(v, h)) with E written out, summed over every hidden state."""
    W, c, b = (p.data.astype(np.float64) for p in (rbm.weight, rbm.h_bias, rbm.v_bias))
    hs = all_states(rbm.n_hidden)
    if rbm.visible == "bernoulli":
        energies = -(v @ b)[:, None] - (hs @ c)[None] - v @ W.T @ hs.T
    else:
        energies = 0.5 * ((v - b) ** 2).sum(1)[:, None] - (hs @ c)[None] - v @ W.T @ hs.T
    return -np.log(np.exp(-energies).sum(axis=1))


def exact_log_likelihood(rbm, data):
    """Mean log p(v) over data, Z summed over every (v, h) pair of a Bernoulli RBM."""
    vs = all_states(rbm.n_visible)
    log_z = np.log(np.exp(-brute_force_free_energy(rbm, vs)).sum())
    return float((-brute_force_free_energy(rbm, data) - log_z).mean())


@pytest.mark.parametrize("visible", ["bernoulli", "gaussian"])
def test_free_energy_and_energy_match_brute_force(visible, rng):
    rbm = tiny_rbm(5, 4, rng, visible)
    v = all_states(5) if visible == "bernoulli" else rng.normal(0, 1, (7, 5))
    np.testing.assert_allclose(rbm.free_energy(v), brute_force_free_energy(rbm, v), rtol=1e-5, atol=1e-5)
    # energy of one configuration, written out term by term
    W, c, b = (p.data.astype(np.float64) for p in (rbm.weight, rbm.h_bias, rbm.v_bias))
    h = np.array([1.0, 0.0, 1.0, 1.0])
    x = v[3]
    first = -b @ x if visible == "bernoulli" else 0.5 * ((x - b) ** 2).sum()
    assert rbm.energy(x, h)[0] == pytest.approx(first - c @ h - h @ W @ x, rel=1e-5)


@pytest.mark.parametrize("shape", [(6, 3), (3, 6)])  # log Z enumerates the hidden, then the visible layer
def test_log_likelihood_sums_to_one_over_all_visible_states(shape, rng):
    rbm = tiny_rbm(*shape, rng)
    p = np.exp(rbm.log_likelihood(all_states(shape[0])))
    assert p.sum() == pytest.approx(1.0, abs=1e-9)
    assert rbm.log_likelihood(all_states(shape[0]))[5] == pytest.approx(
        exact_log_likelihood(rbm, all_states(shape[0])[5:6]), abs=1e-5)


def test_gaussian_log_partition_matches_numerical_integral(rng):
    rbm = tiny_rbm(1, 2, rng, "gaussian")
    grid = np.linspace(-30, 30, 200001)[:, None]
    z = np.exp(-brute_force_free_energy(rbm, grid)).sum() * (grid[1, 0] - grid[0, 0])
    assert rbm.log_partition() == pytest.approx(np.log(z), abs=1e-6)


def test_conditionals_are_the_sigmoids_of_one_matrix_product(rng):
    rbm = tiny_rbm(5, 3, rng)
    v = all_states(5)[:8]
    W, c, b = (p.data.astype(np.float64) for p in (rbm.weight, rbm.h_bias, rbm.v_bias))
    np.testing.assert_allclose(rbm.prob_h_given_v(v), 1 / (1 + np.exp(-(v @ W.T + c))), rtol=1e-5)
    h = all_states(3)
    np.testing.assert_allclose(rbm.prob_v_given_h(h), 1 / (1 + np.exp(-(h @ W + b))), rtol=1e-5)
    np.testing.assert_allclose(rbm.transform(v), rbm.prob_h_given_v(v))
    np.testing.assert_allclose(rbm(ns.tensor(v)).detach().numpy(), rbm.prob_h_given_v(v), rtol=1e-6)
    assert rbm.transform(v).dtype == np.float32
    # sampled hidden frequencies approach p(h | v)
    ns.manual_seed(0)
    many = np.repeat(v[:1], 20000, axis=0)
    np.testing.assert_allclose(rbm.sample_h_given_v(many).mean(0), rbm.prob_h_given_v(v[:1])[0], atol=0.015)
    assert set(np.unique(rbm.sample_v_given_h(h))) <= {0.0, 1.0}


def exact_gradient(rbm, data):
    """d mean log p(data) / d(W, c, b): data statistics minus model statistics by enumeration."""
    vs = all_states(rbm.n_visible)
    p_v = np.exp(-brute_force_free_energy(rbm, vs))
    p_v /= p_v.sum()
    W, c = rbm.weight.data.astype(np.float64), rbm.h_bias.data.astype(np.float64)

    def stats(v, weights):
        ph = 1 / (1 + np.exp(-(v @ W.T + c)))
        return (ph * weights[:, None]).T @ v, weights @ ph, weights @ v

    data_w = np.full(len(data), 1 / len(data))
    return [d - m for d, m in zip(stats(data, data_w), stats(vs, p_v))]


def test_cd_update_moves_the_exact_log_likelihood_up(rng):
    data = np.array([[1, 1, 0, 0, 0, 1], [0, 0, 1, 1, 0, 1], [1, 1, 0, 0, 1, 0], [0, 0, 1, 1, 1, 0]], float)
    rbm = tiny_rbm(6, 4, rng, scale=0.3)
    exact = exact_gradient(rbm, data)
    batch = np.tile(data, (5000, 1))  # many copies: the sampling noise of the estimate is small
    ns.manual_seed(1)
    for k in (1, 10):
        estimate = rbm.contrastive_divergence(batch, k=k)
        flat_est = np.concatenate([e.ravel() for e in estimate])
        flat_exact = np.concatenate([e.ravel() for e in exact])
        cosine = flat_est @ flat_exact / np.linalg.norm(flat_est) / np.linalg.norm(flat_exact)
        assert cosine > 0.9, (k, cosine)
    # CD-10 is close to the exact gradient itself
    np.testing.assert_allclose(flat_est, flat_exact, atol=0.02)
    # every CD-1 step raises the exact log-likelihood of the data
    ns.manual_seed(2)
    trace = [exact_log_likelihood(rbm, data)]
    for _ in range(20):
        rbm.partial_fit(batch, lr=0.5, k=1)
        trace.append(exact_log_likelihood(rbm, data))
    assert np.all(np.diff(trace) > 0), trace
    assert trace[-1] > trace[0] + 0.5, trace


def test_momentum_and_weight_decay_follow_the_formula(rng):
    rbm = tiny_rbm(4, 3, rng)
    data = all_states(4)
    ns.manual_seed(3)
    g1 = rbm.contrastive_divergence(data)
    w0 = rbm.weight.data.copy()
    ns.manual_seed(3)
    rbm.partial_fit(data, lr=0.5, momentum=0.9, weight_decay=0.01)
    v1 = 0.5 * (g1[0] - 0.01 * w0)
    np.testing.assert_allclose(rbm.weight.data, w0 + v1, rtol=1e-5, atol=1e-7)
    w1 = rbm.weight.data.copy()
    ns.manual_seed(4)
    g2 = rbm.contrastive_divergence(data)
    ns.manual_seed(4)
    rbm.partial_fit(data, lr=0.5, momentum=0.9, weight_decay=0.01)
    np.testing.assert_allclose(rbm.weight.data, w1 + 0.9 * v1 + 0.5 * (g2[0] - 0.01 * w1), rtol=1e-5, atol=1e-7)


def test_pcd_chains_persist_across_batches(rng):
    rbm = tiny_rbm(8, 5, rng)
    a, b = all_states(8)[:16], all_states(8)[-16:]
    ns.manual_seed(5)
    rbm.contrastive_divergence(a, persistent=True)
    chain = rbm.persistent_chain.copy()
    assert chain.shape == (16, 5) and set(np.unique(chain)) <= {0.0, 1.0}  # the chains' hidden states
    # the next batch's negative phase continues from the stored chain, whatever the batch holds:
    # the same chain and random state give the same model statistics for different data
    twin = tiny_rbm(8, 5, np.random.default_rng(0))
    twin.load_state_dict(rbm.state_dict())
    twin.persistent_chain = chain.copy()
    ns.manual_seed(6)
    grad_b = rbm.contrastive_divergence(b, persistent=True)
    ns.manual_seed(6)
    grad_a = twin.contrastive_divergence(a, persistent=True)
    np.testing.assert_array_equal(rbm.persistent_chain, twin.persistent_chain)
    def data_side(v):
        return rbm.prob_h_given_v(v).T @ v / len(v)

    np.testing.assert_allclose(grad_b[0] - data_side(b), grad_a[0] - data_side(a), atol=1e-6)
    # ... and it is one Gibbs step on from the stored chain
    ns.manual_seed(6)
    np.testing.assert_array_equal(rbm.persistent_chain, rbm.sample_h_given_v(rbm.sample_v_given_h(chain)))
    # CD starts from the data instead and leaves the chain alone
    kept = rbm.persistent_chain.copy()
    rbm.contrastive_divergence(b, persistent=False)
    np.testing.assert_array_equal(rbm.persistent_chain, kept)


# (persistent, batch size, lr, momentum, epochs, lowest accepted mean log p(pattern)); uniform over
# the 8 patterns is log 1/8 = -2.08, uniform over all 2**16 images -11.09. PCD mixes poorly between
# the 8 far-apart modes (with 20 chains, or momentum, one pattern grabs most of the mass: measured
# mean log p -6 to -20), so it runs 50 chains without momentum and has a looser bound.
@pytest.mark.parametrize("persistent, batch_size, lr, momentum, epochs, lowest",
                         [(False, 20, 0.1, 0.5, 200, np.log(1 / 8) - 0.7), (True, 50, 0.05, 0.0, 300, -4.0)])
def test_training_on_patterns_lowers_reconstruction_error_and_samples_look_like_data(persistent, batch_size, lr,
                                                                                     momentum, epochs, lowest):
    ns.manual_seed(0)
    bars = np.zeros((8, 16))  # 4x4 images: four horizontal and four vertical bars
    for i in range(4):
        bars[i].reshape(4, 4)[i, :] = 1
        bars[4 + i].reshape(4, 4)[:, i] = 1
    data = np.tile(bars, (50, 1)).astype(np.float32)
    rbm = nn.RBM(16, 16)
    before = rbm.reconstruction_error(data)
    history = rbm.fit(data, epochs=epochs, batch_size=batch_size, lr=lr, momentum=momentum, k=1, persistent=persistent)
    after = rbm.reconstruction_error(data)
    assert before > 3.5 and after < 0.5 * before, (before, after)
    assert history[-1]["reconstruction_error"] == pytest.approx(after)
    exact = rbm.log_likelihood(bars).mean()
    assert exact > lowest
    samples = rbm.gibbs(np.tile(bars, (25, 1)), k=50)
    nearest = np.abs(samples[:, None, :] - bars[None]).sum(axis=2).min(axis=1)
    assert (nearest <= 1).mean() > 0.7  # most samples are a pattern, or one pixel away from one


def test_dbn_greedy_pretraining_trains_layer_k_on_layer_k_minus_1(rng):
    data = (rng.random((200, 12)) < 0.3).astype(np.float32)
    ns.manual_seed(0)
    dbn = nn.DBN([12, 8, 6])
    logs = []
    histories = dbn.pretrain(data, epochs=[3, 2], lr=0.05, batch_size=50, log=logs.append)
    assert [len(h) for h in histories] == [3, 2] and len(logs) == 5 and "layer 2/2 (8-6)" in logs[-1]
    # the same as training two RBMs by hand, the second on the first's hidden probabilities
    ns.manual_seed(0)
    first, second = nn.RBM(12, 8), nn.RBM(8, 6)
    first.fit(data, epochs=3, lr=0.05, batch_size=50)
    second.fit(first.transform(data), epochs=2, lr=0.05, batch_size=50)
    for mine, theirs in zip(dbn.rbms, (first, second)):
        for name, value in theirs.state_dict().items():
            np.testing.assert_array_equal(mine.state_dict()[name].numpy(), value.numpy())
    np.testing.assert_allclose(dbn.transform(data), second.transform(first.transform(data)))
    np.testing.assert_allclose(dbn(ns.tensor(data)).detach().numpy(), dbn.transform(data), rtol=1e-6)
    assert dbn.sample(5, gibbs_steps=3).shape == (5, 12)
    assert dbn.sample(start=data[:4], gibbs_steps=3).shape == (4, 12)


def test_dbn_to_mlp_copies_the_weights_exactly(rng):
    ns.manual_seed(1)
    dbn = nn.DBN([10, 7, 5])
    for rbm in dbn.rbms:
        rbm.weight.data[...] = rng.normal(0, 1, rbm.weight.shape)
        rbm.h_bias.data[...] = rng.normal(0, 1, rbm.h_bias.shape)
    mlp = dbn.to_mlp(3, dropout=0.1)
    assert mlp.sizes == [10, 7, 5, 3]
    linears = [m for m in mlp if isinstance(m, nn.Linear)]
    for linear, rbm in zip(linears, dbn.rbms):
        np.testing.assert_array_equal(linear.weight.data, rbm.weight.data)
        np.testing.assert_array_equal(linear.bias.data, rbm.h_bias.data)
        assert not np.shares_memory(linear.weight.data, rbm.weight.data)
    # the MLP's hidden layers compute the DBN's up-pass
    mlp.eval()
    x = rng.random((4, 10)).astype(np.float32)
    body = nn.Sequential(*list(mlp)[:-1])
    hidden = [m for m in body if not isinstance(m, nn.Dropout)]
    np.testing.assert_allclose(nn.Sequential(*hidden)(ns.tensor(x)).detach().numpy(), dbn.transform(x), rtol=1e-5)


def test_seeded_runs_are_reproducible_and_state_dicts_round_trip(tmp_path):
    data = (np.random.default_rng(0).random((120, 20)) < 0.4).astype(np.float32)

    def run(seed):
        ns.manual_seed(seed)
        dbn = nn.DBN([20, 10, 6])
        dbn.pretrain(data, epochs=2, batch_size=30, lr=0.1, k=2, persistent=True, momentum=0.5, verbose=False)
        return dbn

    a, b, c = run(7), run(7), run(8)
    for key, value in a.state_dict().items():
        np.testing.assert_array_equal(value.numpy(), b.state_dict()[key].numpy())
    assert not np.array_equal(a.rbms[0].weight.data, c.rbms[0].weight.data)
    ns.save(a.state_dict(), tmp_path / "dbn.npz")
    fresh = nn.DBN([20, 10, 6])
    fresh.load_state_dict(ns.load(tmp_path / "dbn.npz"))
    assert list(fresh.state_dict()) == ["rbms.0.weight", "rbms.0.h_bias", "rbms.0.v_bias", "rbms.1.weight",
                                        "rbms.1.h_bias", "rbms.1.v_bias"]
    np.testing.assert_array_equal(fresh.rbms[1].weight.data, a.rbms[1].weight.data)


def test_bad_input_names_the_problem():
    with pytest.raises(ValueError, match="visible must be one of"):
        nn.RBM(4, 3, visible="binary")
    rbm = nn.RBM(4, 3)
    with pytest.raises(ValueError, match=r"4 visible units but got input of shape \(2, 5\)"):
        rbm.transform(np.zeros((2, 5)))
    with pytest.raises(ValueError, match="at least 1"):
        rbm.contrastive_divergence(np.zeros((2, 4)), k=0)
    with pytest.raises(ValueError, match="binary"):
        nn.RBM(4, 3, visible="gaussian").pseudo_likelihood(np.zeros((2, 4)))
    with pytest.raises(ValueError, match="at most 20"):
        nn.RBM(30, 25).log_partition()
    with pytest.raises(ValueError, match="one value per RBM"):
        nn.DBN([4, 3, 2]).pretrain(np.zeros((5, 4)), epochs=[1])


def test_pseudo_likelihood_equals_scikit_learn_score_samples(rng):
    sklearn_rbm = pytest.importorskip("sklearn.neural_network").BernoulliRBM
    rbm = tiny_rbm(30, 12, rng)
    v = (rng.random((50, 30)) < 0.5).astype(np.float32)
    theirs = sklearn_rbm(n_components=12, random_state=42).fit(v)  # fitted so that score_samples runs
    theirs.components_ = rbm.weight.data.copy()
    theirs.intercept_hidden_ = rbm.h_bias.data.copy()
    theirs.intercept_visible_ = rbm.v_bias.data.copy()
    np.testing.assert_array_equal(rbm.pseudo_likelihood(v, random_state=42), theirs.score_samples(v))
    np.testing.assert_array_equal(rbm.free_energy(v), theirs._free_energy(v))
    np.testing.assert_allclose(rbm.transform(v), theirs.transform(v), rtol=1e-6, atol=1e-7)
    # float64 weights and data agree as well
    v64 = v.astype(np.float64)
    theirs.components_, theirs.intercept_hidden_, theirs.intercept_visible_ = (
        a.astype(np.float64) for a in (theirs.components_, theirs.intercept_hidden_, theirs.intercept_visible_))
    np.testing.assert_allclose(rbm.pseudo_likelihood(v64, random_state=np.random.RandomState(3)),
                               theirs.set_params(random_state=3).score_samples(v64), rtol=1e-5)


@needs_mnist
def test_cli_trains_a_dbn_and_writes_filters_and_samples(tmp_path):
    from nnscratch.cli import main
    out = tmp_path / "run"
    assert main(["train", "mnist", "--model", "dbn", "--limit", "300", "--pretrain-epochs", "1", "--epochs", "1",
                 "--cd-k", "1", "--pcd", "--hidden", "32,16", "--quiet", "--out", str(out)]) == 0
    for name in ("rbm_filters.png", "rbm_samples.png", "model.npz", "summary.txt", "config.json"):
        assert (out / name).exists(), name
    summary = (out / "summary.txt").read_text()
    assert "pre-training" in summary
    assert main(["eval", str(out)]) == 0
    from nnscratch.runner import load_model
    _, config = load_model(out)
    assert config["net"]["arch"] == "dbn" and config["net"]["sizes"] == [784, 32, 16, 10]
    assert config["settings"]["cd_k"] == 1 and config["settings"]["pcd"] is True


def test_cli_rejects_dbn_options_on_other_presets(tmp_path, capsys):
    from nnscratch.cli import main
    assert main(["train", "xor", "--pcd", "--epochs", "1", "--out", str(tmp_path / "run")]) == 1
    assert "--pcd applies to the dbn preset only" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


def test_gaussian_rbm_learns_real_valued_clusters():
    rng = np.random.default_rng(0)
    centres = rng.normal(0, 2, (3, 10))
    data = (centres[rng.integers(0, 3, 600)] + 0.3 * rng.normal(0, 1, (600, 10))).astype(np.float32)
    ns.manual_seed(0)
    rbm = nn.RBM(10, 8, visible="gaussian")
    before = rbm.reconstruction_error(data)
    rbm.fit(data, epochs=100, batch_size=50, lr=0.01, momentum=0.5)
    after = rbm.reconstruction_error(data)
    assert after < 0.25 * before, (before, after)
    # its mean field reconstruction lands nearer each point's own centre than any other centre
    recon = rbm.reconstruct(data)
    nearest = np.argmin(((recon[:, None] - centres[None]) ** 2).sum(2), axis=1)
    own = np.argmin(((data[:, None] - centres[None]) ** 2).sum(2), axis=1)
    assert (nearest == own).mean() > 0.95
