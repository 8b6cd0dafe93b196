"""java.util.Random and Collections.shuffle against the JDK test vectors of spec §2."""

from commonground.engines.tally import JavaRandom, java_shuffle


def test_next_int_matches_jdk_for_seeds_zero_and_forty_two():
    assert JavaRandom(0).next_int() == -1155484576
    assert JavaRandom(42).next_int() == -1170105035


def test_next_double_matches_jdk():
    assert JavaRandom(0).next_double() == 0.730967787376657
    rng = JavaRandom(12345)
    assert rng.next_double() == 0.3618031071604718
    assert rng.next_double() == 0.932993485288541


def test_shuffle_of_five_letters_with_seed_12345():
    assert java_shuffle(list("ABCDE"), 12345) == ["D", "E", "A", "C", "B"]


def test_shuffle_of_ten_numbers_with_seed_zero():
    assert java_shuffle(list(range(10)), 0) == [4, 8, 9, 6, 3, 5, 2, 1, 7, 0]


def test_bounded_next_int_stays_in_range_and_power_of_two_path_differs():
    rng = JavaRandom(7)
    draws = [rng.next_int(10) for _ in range(1000)]
    assert min(draws) == 0 and max(draws) == 9
    # A power-of-two bound uses the high bits: (16 * next(31)) >> 31.
    a, b = JavaRandom(3), JavaRandom(3)
    assert a.next_int(16) == (16 * b.next_bits(31)) >> 31
