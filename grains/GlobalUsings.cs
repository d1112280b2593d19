global using Orleans;
global using Orleans.Runtime;
global using Praison.Orleans.GrainInterfaces;
global using Orleans.Concurrency;
