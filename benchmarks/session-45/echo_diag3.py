import pickle, sys, numpy as np
exec(open("echo_diag2.py").read().split("trials = ")[0])
trials = [t for t in data["word_trials"] if t["name"] == "hey_jarvis"]
rng = np.random.default_rng(1)
for k in map(int, sys.argv[1:]):
    t = trials[k]; at = t["word_at_s"]
    mic = t["mic"].astype(np.float64); ideal = t["ideal"].astype(np.float64)
    g = 10 ** (-30 / 20); alone = (ideal - g * mic) / (1 - g); residue = mic - alone
    def best(a):
        tr = trace(np.rint(np.clip(a, -32768, 32767)).astype(np.int16)); lo = int(at / 0.08); return tr[lo: lo + 19].max()
    row = []
    for floor in (-60, -50, -45, -40, -35):
        n = rng.standard_normal(len(mic)) * 32768 * 10 ** (floor / 20)
        row.append(f"floor{floor}: alone {best(alone + n):.2f} ideal {best(ideal + n):.2f} res-15 {best(alone + residue * 10**(-21/20) + n):.2f}")
    print(k, " | ".join(row), flush=True)
