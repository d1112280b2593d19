global using Orleans;
global using Praison.Orleans.GrainInterfaces;
