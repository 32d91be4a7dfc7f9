"""SQuAD v1.1 EM / F1 with the official normalisation."""

import pytest

from convbert_tf.training.squad_metrics import (
    exact_match_score,
    f1_score,
    normalize_answer,
    squad_evaluate,
)


def test_normalisation():
    assert normalize_answer("The  Eiffel-Tower!") == "eiffeltower"
    assert normalize_answer("an apple, a pear and THE fig.") == "apple pear and fig"
    assert normalize_answer("theatre") == "theatre"  # articles only as whole words


def test_em_f1_hand_computed():
    assert exact_match_score("the Eiffel Tower.", "Eiffel tower") == 1.0
    # pred {eiffel, tower, paris}, truth {eiffel, tower}: P=2/3, R=1 -> F1=0.8
    assert f1_score("Eiffel Tower, Paris", "the Eiffel Tower") == pytest.approx(0.8)
    assert f1_score("London", "Paris") == 0.0
    scores = squad_evaluate(["Eiffel Tower Paris", "1990"], [["Eiffel Tower", "tower"],
                                                                 ["in 1990", "1990"]])
    assert scores == {"exact_match": 50.0, "f1": pytest.approx(90.0)}
    assert squad_evaluate({"q1": "x"}, {"q1": ["x"]})["exact_match"] == 100.0


def test_bad_input():
    with pytest.raises(ValueError, match="predictions for"):
        squad_evaluate(["a"], [["a"], ["b"]])
    with pytest.raises(ValueError, match="No prediction"):
        squad_evaluate({}, {"q1": ["a"]})
