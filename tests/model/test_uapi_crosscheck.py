"""Independent cross-check of the model's ring facts against the Linux uapi header <linux/virtio_ring.h>.

`csrc/vring_shim.c` is compiled at test time and loaded with ctypes; it reports offsetof / sizeof of the uapi
structures, the flag and feature-bit values, the event-field macros, and runs the header's own vring_need_event.
"""

import ctypes
import shutil
import subprocess
from pathlib import Path

import pytest

from virtio_golden import constants as c
from virtio_golden import ring
from virtio_golden.ring import RingLayout, u16, vring_need_event
from helpers import SPEC_4_6_VECTORS

pytestmark = pytest.mark.model

UAPI_HEADER = Path("/usr/include/linux/virtio_ring.h")
SHIM_SOURCE = Path(__file__).parent / "csrc" / "vring_shim.c"
WINDOW = 1 << 16  # shim_need_event_window covers every (new - old) value

# (model name, model value, shim function returning the uapi value)
LAYOUT_AND_FLAG_FACTS = [
    ("ring.DESC_ADDR_OFF", ring.DESC_ADDR_OFF, "shim_desc_addr_off"),
    ("ring.DESC_LEN_OFF", ring.DESC_LEN_OFF, "shim_desc_len_off"),
    ("ring.DESC_FLAGS_OFF", ring.DESC_FLAGS_OFF, "shim_desc_flags_off"),
    ("ring.DESC_NEXT_OFF", ring.DESC_NEXT_OFF, "shim_desc_next_off"),
    ("constants.DESC_SIZE", c.DESC_SIZE, "shim_desc_size"),
    ("ring.DESC_ALIGN", ring.DESC_ALIGN, "shim_desc_align"),
    ("ring.AVAIL_FLAGS_OFF", ring.AVAIL_FLAGS_OFF, "shim_avail_flags_off"),
    ("ring.AVAIL_IDX_OFF", ring.AVAIL_IDX_OFF, "shim_avail_idx_off"),
    ("ring.AVAIL_RING_OFF", ring.AVAIL_RING_OFF, "shim_avail_ring_off"),
    ("ring.AVAIL_RING_OFF (header size)", ring.AVAIL_RING_OFF, "shim_avail_size"),
    ("ring.AVAIL_ELEM_SIZE", ring.AVAIL_ELEM_SIZE, "shim_avail_elem_size"),
    ("ring.AVAIL_ALIGN", ring.AVAIL_ALIGN, "shim_avail_align"),
    ("ring.USED_ELEM_ID_OFF", ring.USED_ELEM_ID_OFF, "shim_used_elem_id_off"),
    ("ring.USED_ELEM_LEN_OFF", ring.USED_ELEM_LEN_OFF, "shim_used_elem_len_off"),
    ("constants.USED_ELEM_SIZE", c.USED_ELEM_SIZE, "shim_used_elem_size"),
    ("ring.USED_FLAGS_OFF", ring.USED_FLAGS_OFF, "shim_used_flags_off"),
    ("ring.USED_IDX_OFF", ring.USED_IDX_OFF, "shim_used_idx_off"),
    ("ring.USED_RING_OFF", ring.USED_RING_OFF, "shim_used_ring_off"),
    ("ring.USED_RING_OFF (header size)", ring.USED_RING_OFF, "shim_used_size"),
    ("ring.USED_ALIGN", ring.USED_ALIGN, "shim_used_align"),
    ("ring.EVENT_FIELD_SIZE", ring.EVENT_FIELD_SIZE, "shim_event_field_size"),
    ("constants.VIRTQ_DESC_F_NEXT", c.VIRTQ_DESC_F_NEXT, "shim_desc_f_next"),
    ("constants.VIRTQ_DESC_F_WRITE", c.VIRTQ_DESC_F_WRITE, "shim_desc_f_write"),
    ("constants.VIRTQ_DESC_F_INDIRECT", c.VIRTQ_DESC_F_INDIRECT, "shim_desc_f_indirect"),
    ("constants.VIRTQ_AVAIL_F_NO_INTERRUPT", c.VIRTQ_AVAIL_F_NO_INTERRUPT, "shim_avail_f_no_interrupt"),
    ("constants.VIRTQ_USED_F_NO_NOTIFY", c.VIRTQ_USED_F_NO_NOTIFY, "shim_used_f_no_notify"),
    ("constants.F_INDIRECT_DESC", c.F_INDIRECT_DESC, "shim_f_indirect_desc"),
    ("constants.F_EVENT_IDX", c.F_EVENT_IDX, "shim_f_event_idx"),
]

EDGE_OLDS = [0, 1, 0x7FFF, 0x8000, 0xFFFE, 0xFFFF]


def edge_pairs() -> list[tuple[int, int]]:
    """(event, old) pairs: each edge `old` with event at old, old - 1, old + 1, 0, 0xFFFF and 0x8000."""
    pairs = {(u16(event), old) for old in EDGE_OLDS for event in (old, old - 1, old + 1, 0, 0xFFFF, 0x8000)}
    return sorted(pairs)


@pytest.fixture(scope="module")
def uapi(tmp_path_factory) -> ctypes.CDLL:
    compiler = shutil.which("cc")
    if compiler is None:
        pytest.fail("No C compiler 'cc' on PATH: install build-essential (apt-get install build-essential) "
                    "to run the uapi cross-check.", pytrace=False)
    if not UAPI_HEADER.exists():
        pytest.fail(f"{UAPI_HEADER} is missing: install linux-libc-dev (apt-get install linux-libc-dev) "
                    "to run the uapi cross-check.", pytrace=False)
    library = tmp_path_factory.mktemp("vring_shim") / "vring_shim.so"
    build = subprocess.run([compiler, "-shared", "-fPIC", "-O2", "-o", str(library), str(SHIM_SOURCE)],
                           capture_output=True, text=True)
    if build.returncode != 0:
        pytest.fail(f"Compiling {SHIM_SOURCE} failed (are build-essential and linux-libc-dev installed?):\n"
                    f"{build.stderr}", pytrace=False)
    shim = ctypes.CDLL(str(library))
    for _, _, function in LAYOUT_AND_FLAG_FACTS:
        getattr(shim, function).restype = ctypes.c_ulong
    for function in ("shim_used_event_off", "shim_avail_event_off"):
        getattr(shim, function).restype = ctypes.c_ulong
        getattr(shim, function).argtypes = [ctypes.c_uint]
    shim.shim_need_event.restype = ctypes.c_int
    shim.shim_need_event.argtypes = [ctypes.c_uint] * 3
    shim.shim_need_event_window.restype = None
    shim.shim_need_event_window.argtypes = [ctypes.c_uint, ctypes.c_uint, ctypes.c_char_p]
    return shim


def fact_mismatches(shim: ctypes.CDLL, facts) -> list[str]:
    """Each fact whose model value differs from the uapi header's, described in one line."""
    return [f"{name}: model {value}, uapi {getattr(shim, function)()}"
            for name, value, function in facts if value != getattr(shim, function)()]


def need_event_mismatches(model_need_event, shim: ctypes.CDLL, pairs, limit: int = 5) -> list[str]:
    """For each (event, old) pair and every new = old + d (d in 0..65535), compare the model with the uapi header."""
    mismatches = []
    for event, old in pairs:
        uapi_window = ctypes.create_string_buffer(WINDOW)
        shim.shim_need_event_window(event, old, uapi_window)
        model_window = bytes(model_need_event(event, u16(old + d), old) for d in range(WINDOW))
        if model_window != uapi_window.raw:
            d = next(d for d in range(WINDOW) if model_window[d] != uapi_window.raw[d])
            mismatches.append(f"event={event:#06x} old={old:#06x} new={u16(old + d):#06x}: "
                              f"model {bool(model_window[d])}, uapi {bool(uapi_window.raw[d])}")
            if len(mismatches) == limit:
                break
    return mismatches


def test_offsets_flags_and_feature_bits_match_uapi(uapi):
    assert fact_mismatches(uapi, LAYOUT_AND_FLAG_FACTS) == []


@pytest.mark.parametrize("size", [1, 2, 256, c.QUEUE_SIZE_LIMIT])
def test_event_field_offsets_match_uapi_macros(uapi, size):
    layout = RingLayout(desc=0, avail=0, used=0, size=size)
    assert layout.used_event_addr == uapi.shim_used_event_off(size)
    assert layout.avail_event_addr == uapi.shim_avail_event_off(size)


def test_need_event_matches_uapi_for_every_step_at_edge_indices(uapi):
    assert need_event_mismatches(vring_need_event, uapi, edge_pairs()) == []


@pytest.mark.parametrize("event, old, new, expected", SPEC_4_6_VECTORS)
def test_spec_vectors_agree_with_uapi(uapi, event, old, new, expected):
    assert bool(uapi.shim_need_event(event, new, old)) is expected
    assert vring_need_event(event, new, old) is expected


def test_crosscheck_reports_a_wrong_need_event(uapi):
    def off_by_one(event, new, old):  # forgets the "- 1": notifies one step late
        return u16(new - event) < u16(new - old)

    mismatches = need_event_mismatches(off_by_one, uapi, [(5, 3)])
    assert mismatches and mismatches[0].startswith("event=0x0005 old=0x0003 new=")


def test_crosscheck_reports_a_wrong_offset(uapi):
    wrong = [("AVAIL_RING_OFF", ring.AVAIL_RING_OFF + 2, "shim_avail_ring_off")]
    assert fact_mismatches(uapi, wrong) == ["AVAIL_RING_OFF: model 6, uapi 4"]
