"""Studies: several training runs that differ in the Banach space (and seed or precision), their FID over training,
a table, a plot and a sample grid per run (Adler & Lunz 2018, Figs. 2-3; at CPU scale or the paper's).

A study directory holds runs/<name>/ (ordinary run directories: a finished run is skipped, an interrupted one
resumes), table.json, table.md, fid.png, grids/<name>.png and exports/<name>/ (the final EMA generator as a
SavedModel). The run directories may live elsewhere (`runs_dir`, e.g. scratch space outside a git checkout): a run
that table.json records as finished, with its export, is kept as recorded and not trained again even when its run
directory is gone, so a committed results folder carries a long study across machines. The studies themselves
are defined in bwgan_tf.runs.studies. FID is evaluated on kept checkpoints after training, with the standard FID
network, and written to each run's metrics.jsonl as {"event": "evaluation", "step", "generator": "ema",
"<metric>": value}.
Metric names state the protocol: fid<K>k_<split> is K thousand generated samples against the <split> images.
"""
import json
import os
from typing import Dict, Optional

from bwgan_tf import compat, latents, metrics, train
from bwgan_tf.io import files, images
from bwgan_tf.metrics import registry
from bwgan_tf.runs import export, generators, seeds
from bwgan_tf.runs.studies import STUDIES, SUBSET, Study  # noqa: F401 (the tools' and tests' names for them)
from bwgan_tf.train import build
from bwgan_tf.train import run_dir as run_dir_lib


def _runs_dir(output_dir: str, runs_dir: Optional[str]) -> str:
    return runs_dir or os.path.join(output_dir, "runs")


def run_config(study: Study, name: str, output_dir: str, data_path: str, steps: Optional[int] = None,
               runs_dir: Optional[str] = None):
    settings = dict(study.base(data_path), **study.runs[name])
    if steps:
        settings["steps"] = steps
    preset = settings.pop("preset", None)
    return train.make_config(preset, output_dir=os.path.join(_runs_dir(output_dir, runs_dir), name), **settings)


def recorded_runs(output_dir: str, extractor, eval_samples: int) -> Dict[str, dict]:
    """Runs that OUTPUT_DIR/table.json records as finished and whose export is there: {name: row}, each row with its
    fid<eval_samples>@step columns folded back into `curve`."""
    path = os.path.join(output_dir, "table.json")
    if not os.path.isfile(path):
        return {}
    prefix = metric_name(eval_samples, "train", extractor) + "@"
    recorded = {}
    for flat_row in files.read_json(path):
        if flat_row.get("steps") != flat_row.get("of_steps") or not os.path.isdir(
                os.path.join(output_dir, "exports", flat_row["run"])):
            continue
        row = {k: v for k, v in flat_row.items() if "@" not in k}
        row["curve"] = {int(k[len(prefix):]): v for k, v in flat_row.items() if k.startswith(prefix)}
        recorded[flat_row["run"]] = row
    return recorded


def metric_name(num_samples: int, split: str, extractor=None) -> str:
    """fid2k_train: FID's label for the sample count (registry.metric_label; fd2k_<name> for a stand-in extractor,
    None is the standard network) and the reference split."""
    return f"{registry.metric_label('fid', registry.Settings(num_samples), extractor)}_{split}"


def final_metrics(samples, reference, split: str, extractor, with_pr: bool) -> dict:
    """{fid<N>_<split>: FID} of generated statistics against a reference split, and with_pr precision and recall
    (k = 3) of all the samples' features against all the reference's: pr<N>_k3_precision_<split>, ..._recall_..."""
    metrics.check_same_images(samples.image_shape, reference.image_shape)
    result = {metric_name(samples.count, split, extractor): metrics.frechet_distance(
        reference.mean, reference.cov, samples.mean, samples.cov)}
    if with_pr:
        settings = registry.Settings(samples.count, kid_samples=len(samples.head_features))
        stem = registry.metric_label("pr", settings, extractor)
        precision, recall = metrics.precision_recall(reference.head_features, samples.head_features)
        result.update({f"{stem}_precision_{split}": precision, f"{stem}_recall_{split}": recall})
    return result


def _is_metric(key: str) -> bool:
    return registry.is_metric_label(key) and key.endswith(("_train", "_test"))


def evaluate_checkpoints(run_dir: str, study: Study, extractor, references: dict, print_fn=print) -> list:
    """FID of the EMA generator at every eval_every-th kept checkpoint and the last one; skips those done. The
    samples of one (step, count) are drawn and featurised once and compared with every reference split."""
    model_config = build.read_config(run_dir)
    model = build.build_model(model_config)
    manager = build.checkpoint_manager(model, run_dir, keep=10_000)
    done = {(r["step"], k) for r in run_dir_lib.evaluations(run_dir) for k in r if _is_metric(k)}
    new = []
    for path in manager.checkpoints:
        step = build.checkpoint_step(path)
        final = step == model_config.steps
        if step % study.eval_every and not final:
            continue
        wanted = [(study.eval_samples, "train")] + ([(study.final_samples, s) for s in references] if final else [])
        todo = [(n, s) for n, s in dict.fromkeys(wanted) if (step, metric_name(n, s, extractor)) not in done]
        if not todo:
            continue
        manager.checkpoint.restore(path).expect_partial()
        record = {"event": "evaluation", "step": step, "generator": "ema", "extractor": extractor.name,
                  "estimators": compat.estimators_implementation()}
        for num in dict.fromkeys(n for n, _ in todo):
            with_pr = final and num == study.final_samples
            samples = metrics.reference_statistics(metrics.as_sampler(model).batches(num, 100, seed=12345),
                                                   extractor, num=num, kid_samples=num if with_pr else 0)
            for split in (s for n, s in todo if n == num):
                record.update(final_metrics(samples, references[split], split, extractor, with_pr))
        run_dir_lib.append_metrics(run_dir, record)
        print_fn(f"{os.path.basename(run_dir)} step {step}: " + ", ".join(
            f"{k} {v:.2f}" for k, v in record.items() if _is_metric(k)), flush=True)
        new.append(record)
    return new


def _imported_path(output_dir: str, name: str) -> str:
    return os.path.join(output_dir, "imported", f"{name}.json")


def import_run(study: Study, name: str, output_dir: str, extractor, references: dict, print_fn=print) -> dict:
    """The row of a run of an earlier study (study.imported): its settings and FID curve from that study's table.json
    and curves.json, and its final metrics recomputed from its export (the FIDs reproduce that table's); written
    once to OUTPUT_DIR/imported/<name>.json."""
    path = _imported_path(output_dir, name)
    if os.path.isfile(path):
        return files.read_json(path)
    old, folder = study.imported[name], study.imported_from
    row = next((r for r in files.read_json(os.path.join(folder, "table.json")) if r["run"] == old), None)
    if row is None:
        raise ValueError(f"imported: {old!r} is not a run of {os.path.join(folder, 'table.json')}")
    curve = files.read_json(os.path.join(folder, "curves.json"))[old]
    sampler = generators.open_generator(os.path.join(folder, "exports", old))
    num = study.final_samples
    samples = metrics.reference_statistics(sampler.batches(num, 100, seed=12345), extractor, num=num, kid_samples=num)
    record = {k: v for k, v in row.items() if not _is_metric(k)}
    record.update(run=name, source=os.path.join(folder, "exports", old), curve={int(k): v for k, v in curve.items()})
    record["estimators"] = compat.estimators_implementation()
    for split, reference in references.items():
        record.update({k: round(v, 4) for k, v in final_metrics(samples, reference, split, extractor, True).items()})
    files.write_json_atomically(path, record)
    print_fn(f"{name} (imported {record['source']}): " + ", ".join(
        f"{k} {v:.4g}" for k, v in record.items() if _is_metric(k)), flush=True)
    return record


def table(study: Study, output_dir: str, extractor=None, runs_dir: Optional[str] = None) -> list:
    """One row per run: settings, resolved lam/gamma, steps done, step rate, the last value of each metric, and its
    FID curve {step: fid} by `extractor` (`curve`); imported runs as import_run wrote them, finished runs without
    a run directory as table.json recorded them."""
    rows = []
    fid = metric_name(study.eval_samples, "train", extractor)
    recorded = recorded_runs(output_dir, extractor, study.eval_samples)
    for name in [*study.runs, *study.imported]:
        run_dir = os.path.join(_runs_dir(output_dir, runs_dir), name)
        if name in study.imported and os.path.isfile(_imported_path(output_dir, name)):
            # runs from before the drift_mode setting had the paper's drift
            rows.append({"drift_mode": "paper", **files.read_json(_imported_path(output_dir, name))})
        if not run_dir_lib.exists(run_dir):
            if name in recorded and name not in study.imported:
                rows.append(recorded[name])
            continue
        config = run_dir_lib.read_config(run_dir)
        records = run_dir_lib.read_metrics(run_dir)
        rates = [r["steps_per_s"] for r in records if "steps_per_s" in r and r["step"] > 1]
        row = {"run": name, "space": config["space"], "drift_mode": config.get("drift_mode", "paper"),
               "seed": config["seed"], "lam": round(config["lam"], 3), "gamma": round(config["gamma"], 3),
               "precision": "bf16" if config["mixed_precision"] else "f32",
               "steps": max((r["step"] for r in records), default=0), "of_steps": config["steps"],
               "steps_per_s": round(sorted(rates)[len(rates) // 2], 3) if rates else None, "curve": {}}
        for record in run_dir_lib.evaluations(run_dir):
            row.update({k: round(v, 4 if k.startswith("pr") else 2) for k, v in record.items() if _is_metric(k)})
            if fid in record:
                row["curve"][record["step"]] = round(record[fid], 2)
        rows.append(row)
    return rows


def flat(row: dict, fid: str) -> dict:
    """A table row with its curve spread into columns fid@step."""
    flat_row = {k: v for k, v in row.items() if k != "curve"}
    flat_row.update({f"{fid}@{step}": value for step, value in sorted(row.get("curve", {}).items())})
    return flat_row


def markdown(rows: list) -> str:
    columns = list(dict.fromkeys(k for row in rows for k in row))
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join("" if row.get(c) is None else str(row.get(c)) for c in columns) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _finished(row: dict) -> bool:
    return row["steps"] >= row["of_steps"]


def write_results(study: Study, output_dir: str, extractor=None, runs_dir: Optional[str] = None) -> dict:
    """table.json, table.md, fid.png (the FID curve by `extractor`, None: the standard network), grids/<run>.png
    and exports/<run>/ of finished runs."""
    runs_dir = _runs_dir(output_dir, runs_dir)
    rows = table(study, output_dir, extractor, runs_dir)
    name = metric_name(study.eval_samples, "train", extractor)
    flat_rows = [flat(row, name) for row in rows]
    files.write_json_atomically(os.path.join(output_dir, "table.json"), flat_rows)
    files.write_text_atomically(os.path.join(output_dir, "table.md"), markdown(flat_rows))
    finished = [row for row in flat_rows if _finished(row)]  # statistics over finished runs only
    columns = [c for c in dict.fromkeys(k for row in finished for k in row) if _is_metric(c.split("@")[0])
               and c != name]  # the last FID of the curve is its column fid@<last step>
    columns.sort(key=lambda c: (not c.startswith(f"{name}@"), int(c.split("@")[1]) if "@" in c else 0))
    summary = seeds.summary(finished, columns)
    files.write_json_atomically(os.path.join(output_dir, "summary.json"), summary)
    files.write_text_atomically(os.path.join(output_dir, "summary.md"), seeds.markdown(summary, columns))
    series = {row["run"]: row["curve"] for row in rows if row.get("curve") and _finished(row)}
    if series:
        seeds.band_plot(series, os.path.join(output_dir, "fid.png"), ylabel=f"FID ({study.eval_samples} samples vs "
                        "train)", title="FID of the EMA generator: mean over seeds, band from lowest to highest")
    for row in rows:
        run_dir = os.path.join(runs_dir, row["run"])
        if not _finished(row) or row["run"] in study.imported or not run_dir_lib.exists(run_dir):
            continue
        generator, config = generators.load_generator(run_dir)
        z = latents.for_seed(0, 64, config.latent_dim)
        grid = images.grid(images.to_uint8(generator(z, training=False).numpy()))
        images.write_png(os.path.join(output_dir, "grids", f"{row['run']}.png"), grid)
        export_dir = os.path.join(output_dir, "exports", row["run"])
        if not os.path.isdir(export_dir):
            export.export_generator(generator, export_dir, latent_dim=config.latent_dim,
                                    metadata={"run": row["run"], "space": config.space, "steps": config.steps,
                                              "config": json.dumps(config.to_dict(), sort_keys=True)})
    return {"rows": flat_rows, "summary": summary, "plotted": sorted(series)}


def run(name: str, output_dir: str, *, data_path: str = SUBSET, only=None, steps: Optional[int] = None,
        train_runs: bool = True, fid_precision: str = "bfloat16", runs_dir: Optional[str] = None,
        print_fn=print) -> dict:
    """Imports the earlier study's runs, then trains (or resumes) each run in order, evaluates its checkpoints and
    writes the results after each run; a run that table.json records as finished (recorded_runs) is not trained
    again.

    FID uses the standard network in `fid_precision` (bfloat16 halves its cost on CPUs with native bf16; its FID
    differs from float32's by a fraction of a percent, BUILD_NOTES.md); each record names its extractor."""
    if name not in STUDIES:
        raise ValueError(f"study must be one of {', '.join(STUDIES)}, got {name!r}")
    chosen = STUDIES[name]
    unknown = [n for n in only or () if n not in chosen.runs and n not in chosen.imported]
    if unknown:
        raise ValueError(f"only: unknown runs {', '.join(unknown)}; the study has "
                         f"{', '.join([*chosen.runs, *chosen.imported])}")
    names = [n for n in chosen.runs if only is None or n in only]
    configs = {n: run_config(chosen, n, output_dir, data_path, steps, runs_dir) for n in names}  # validated first
    extractor = metrics.fid_extractor(precision=fid_precision)
    recorded = recorded_runs(output_dir, extractor, chosen.eval_samples)
    reference = chosen.reference(data_path)
    references = {split: metrics.reference_statistics(reference, extractor, split=split, num=metrics.ALL,
                                                      cache_dir=files.cache_dir("reference"), what="--data")
                  for split in ("train", "test")}
    for imported_name in (n for n in chosen.imported if only is None or n in only):
        import_run(chosen, imported_name, output_dir, extractor, references, print_fn)
    for run_name, config in configs.items():
        if run_name in recorded and not run_dir_lib.exists(config.output_dir):
            print_fn(f"{run_name}: finished, as {os.path.join(output_dir, 'table.json')} records", flush=True)
            continue
        if train_runs:
            train.train(config, print_fn=print_fn)
        if run_dir_lib.exists(config.output_dir):
            evaluate_checkpoints(config.output_dir, chosen, extractor, references, print_fn)
            write_results(chosen, output_dir, extractor, runs_dir)  # a study stopped later keeps this run's results
    return write_results(chosen, output_dir, extractor, runs_dir)
