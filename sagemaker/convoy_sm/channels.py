"""Input channels -> one --data source for convoy-train.

Channels live in input/data/<channel>. The training images come from `training` or `train`,
the test images from `testing` or `test`; one channel (of any name) may hold both. A
channel may hold CIFAR-10 binary batches (data_batch_K.bin, test_batch.bin, possibly in a
subfolder), the official cifar-10-binary.tar.gz, an image tree train/<class>/ test/<class>/
or a .tar.gz/.tgz/.tar of one; a train or test channel on its own may also hold just the
<class>/ folders of its split. convoy-train's --data reads any single one of those, so a
lone channel is passed as it is; separate train and test channels are joined in a staging
folder (links for files and folders, extraction for archives).
"""
import os
import shutil
import tarfile
from dataclasses import dataclass
from pathlib import Path

from .paths import ContractError, read_json_file

TRAIN_CHANNELS = ("training", "train")
TEST_CHANNELS = ("testing", "test")
ARCHIVE_SUFFIXES = (".tar.gz", ".tgz", ".tar")
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")


@dataclass
class Source:
    kind: str   # batches | tree | archive | classes
    path: Path  # batches: the folder of .bin files; tree: the folder with train/ test/;
                # archive: the file; classes: the folder of <class>/ folders


def _visible(entries):
    return sorted(e for e in entries if not e.name.startswith("."))


def _is_class_folder_tree(folder):
    subdirs = [d for d in _visible(folder.iterdir()) if d.is_dir()]
    if not subdirs:
        return False
    for d in subdirs[:3]:
        if not any(f.suffix.lower() in IMAGE_SUFFIXES for f in d.iterdir()):
            return False
    return True


def find_source(channel, folder):
    """What one channel folder holds. Raises ContractError naming the channel otherwise."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ContractError(f"channel '{channel}': {folder} is not a folder")
    for depth_glob in ("*.bin", "*/*.bin", "*/*/*.bin"):
        bins = [p for p in folder.glob(depth_glob)
                if p.name == "test_batch.bin" or p.name.startswith("data_batch_")]
        if bins:
            return Source("batches", bins[0].parent)
    for candidate in [folder] + [d for d in _visible(folder.iterdir()) if d.is_dir()]:
        if (candidate / "train").is_dir() or (candidate / "test").is_dir():
            return Source("tree", candidate)
    archives = [p for p in _visible(folder.iterdir()) if p.is_file() and p.name.endswith(ARCHIVE_SUFFIXES)]
    if len(archives) == 1:
        return Source("archive", archives[0])
    if len(archives) > 1:
        raise ContractError(f"channel '{channel}': {folder} holds several archives "
                            f"({', '.join(a.name for a in archives)}); give the channel exactly one")
    if _is_class_folder_tree(folder):
        return Source("classes", folder)
    seen = ", ".join(e.name for e in _visible(folder.iterdir())[:8]) or "nothing"
    raise ContractError(
        f"channel '{channel}': {folder} holds no CIFAR-10 data (found: {seen}); give it the binary "
        "batches (data_batch_1..5.bin, test_batch.bin), cifar-10-binary.tar.gz, an image tree "
        "train/<class>/ test/<class>/ or a .tar.gz of one")


def pick_channels(data_dir, declared=None):
    """Returns (train channel name, test channel name or None). `declared` is the list of
    channel names from inputdataconfig.json (None: use the folders present)."""
    data_dir = Path(data_dir)
    present = sorted(d.name for d in data_dir.iterdir() if d.is_dir()) if data_dir.is_dir() else []
    for name in declared or []:
        if name not in present:
            raise ContractError(f"channel '{name}' is declared in inputdataconfig.json but "
                                f"{data_dir / name} does not exist")
    names = list(declared) if declared else present
    if not names:
        raise ContractError(f"no input channels in {data_dir}; give a 'training' channel (and optionally "
                            "'testing') holding CIFAR-10")
    train = next((n for n in TRAIN_CHANNELS if n in names), None)
    test = next((n for n in TEST_CHANNELS if n in names), None)
    if train is None and test is not None:
        raise ContractError(f"channel '{test}' holds test data but there is no 'training' (or 'train') channel")
    if train is None:
        if len(names) != 1:
            raise ContractError(f"channels {', '.join(names)}: none is called 'training'/'train'; name the "
                                "training channel so, or give exactly one channel holding train and test")
        train = names[0]
    return train, test


def _extract(archive, into):
    into.mkdir(parents=True, exist_ok=True)
    try:
        with tarfile.open(archive) as tar:
            if hasattr(tarfile, "data_filter"):
                tar.extractall(into, filter="data")
            else:
                for member in tar.getmembers():
                    if member.name.startswith("/") or ".." in Path(member.name).parts:
                        raise ContractError(f"{archive}: member {member.name} points outside the archive")
                tar.extractall(into)
    except (OSError, tarfile.TarError) as e:
        raise ContractError(f"{archive}: cannot extract ({e})") from e
    return into


def _link(target, link):
    link.parent.mkdir(parents=True, exist_ok=True)
    os.symlink(Path(target).resolve(), link)


def _split_folder(channel, source, split):
    """The <class>/ folders of one split of a tree-like source."""
    if source.kind == "classes":
        return source.path
    if (source.path / split).is_dir():
        return source.path / split
    raise ContractError(f"channel '{channel}': {source.path} has no {split}/ folder")


def join_separate(train_channel, train_source, test_channel, test_source, staging):
    """One --data folder from a training and a test channel."""
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    sources = {}
    for channel, source in ((train_channel, train_source), (test_channel, test_source)):
        if source.kind == "archive":
            source = find_source(channel, _extract(source.path, staging / ("extracted-" + channel)))
        sources[channel] = source
    train_source, test_source = sources[train_channel], sources[test_channel]
    joined = staging / "data"
    if train_source.kind == "batches" and test_source.kind == "batches":
        train_bins = sorted(train_source.path.glob("data_batch_*.bin"))
        if not train_bins:
            raise ContractError(f"channel '{train_channel}': {train_source.path} has no data_batch_K.bin")
        if not (test_source.path / "test_batch.bin").exists():
            raise ContractError(f"channel '{test_channel}': {test_source.path} has no test_batch.bin")
        for b in train_bins:
            _link(b, joined / b.name)
        _link(test_source.path / "test_batch.bin", joined / "test_batch.bin")
        for folder in (train_source.path, test_source.path):
            if (folder / "batches.meta.txt").exists():
                _link(folder / "batches.meta.txt", joined / "batches.meta.txt")
                break
        return joined
    tree_kinds = ("tree", "classes")
    if train_source.kind in tree_kinds and test_source.kind in tree_kinds:
        _link(_split_folder(train_channel, train_source, "train"), joined / "train")
        _link(_split_folder(test_channel, test_source, "test"), joined / "test")
        return joined
    raise ContractError(f"channels '{train_channel}' ({train_source.kind}) and '{test_channel}' "
                        f"({test_source.kind}) hold different formats; give both binary batches or both image trees")


def resolve_data(paths):
    """The --data argument for convoy-train from the channels under paths.data_dir."""
    config = read_json_file(paths.inputdataconfig, "inputdataconfig.json", default={})
    if not isinstance(config, dict):
        raise ContractError(f"inputdataconfig.json: expected an object of channel -> settings")
    train, test = pick_channels(paths.data_dir, sorted(config) if config else None)
    train_source = find_source(train, paths.data_dir / train)
    if test is None or test == train:
        if train_source.kind == "classes":
            raise ContractError(f"channel '{train}': {train_source.path} holds only <class>/ folders; give a "
                                "'testing' channel too, or a tree with train/ and test/")
        return str(train_source.path)
    test_source = find_source(test, paths.data_dir / test)
    return str(join_separate(train, train_source, test, test_source, paths.staging))
