"""minigrad.nn: modules, layers, losses, functional ops and initialisation (torch.nn's shape)."""
from minigrad.nn import functional, init, utils  # noqa: F401
from minigrad.nn.activation import LeakyReLU, LogSoftmax, ReLU, Sigmoid, Softmax, Tanh
from minigrad.nn.containers import ModuleDict, ModuleList, Sequential
from minigrad.nn.dropout import Dropout
from minigrad.nn.linear import Flatten, Identity, Linear
from minigrad.nn.loss import (BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, L1Loss, MSELoss,
                              NLLLoss)
from minigrad.nn.module import Module
from minigrad.nn.parameter import Parameter

__all__ = ["Module", "Parameter", "Sequential", "ModuleList", "ModuleDict", "Identity",
           "Flatten", "Linear", "ReLU", "LeakyReLU", "Sigmoid", "Tanh", "Softmax",
           "LogSoftmax", "Dropout", "BCELoss", "BCEWithLogitsLoss", "MSELoss", "L1Loss",
           "CrossEntropyLoss", "NLLLoss", "functional", "init", "utils"]
